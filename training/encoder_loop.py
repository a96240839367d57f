"""Fine-tuning the upper transformer layers over cached lower-layer outputs.

Same loss and selection as the head loop (symmetric MNR, the epoch with the best pool MRR on the
validation pairs is kept, epoch 0 being the untouched model), but the weights that learn are the
encoder's own upper layers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from training.fit import Evaluation, TrainResult, fit
from training.layer_cache import TokenStates
from training.loss import symmetric_mnr_loss
from training.split_encoder import SplitEncoder


@dataclass(frozen=True)
class EncoderConfig:
    trainable_layers: int = 2
    epochs: int = 2
    batch_size: int = 64
    learning_rate: float = 1e-4
    warmup: float = 0.1  # share of the steps with a rising learning rate, then linear decay to 0
    weight_decay: float = 0.01
    scale: float = 20.0
    length_buckets: bool = True
    # Share of the untuned weights averaged back in after tuning (see training.weight_mixing).
    base_share: float = 0.0
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bucketed_batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, bucketed: bool = True
) -> list[np.ndarray]:
    """Random batches in which texts of similar length travel together.

    Pairs are shuffled, cut into chunks of 16 batches, each chunk sorted by length and cut into
    batches, and the batches shuffled: padding (all wasted work on a CPU) shrinks by about half
    while every batch still draws its pairs, and so its negatives, from a random chunk.
    """
    order = rng.permutation(len(lengths))
    if bucketed:
        chunk = 16 * batch_size
        order = np.concatenate(
            [
                part[np.argsort(lengths[part], kind="stable")]
                for part in np.split(order, range(chunk, len(order), chunk))
            ]
        )
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    batches = [b for b in batches if len(b) >= 2]
    return [batches[i] for i in rng.permutation(len(batches))]


@torch.no_grad()
def embed_states(encoder: SplitEncoder, states: TokenStates, batch_size: int = 128) -> torch.Tensor:
    """Sentence embeddings of every text from its lower-layer states, in order."""
    encoder.train(False)
    order = np.argsort(states.lengths(), kind="stable")
    out = torch.empty(len(states), encoder.dim)
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        out[torch.as_tensor(idx)] = encoder.upper(*states.batch(idx)).float().cpu()
    return out


def train_upper_layers(
    encoder: SplitEncoder,
    train: tuple[TokenStates, TokenStates],
    val: tuple[TokenStates, TokenStates],
    config: EncoderConfig,
    *,
    groups: np.ndarray | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train the encoder's upper layers in place; at the end they hold the best epoch's weights.
    `groups`: each training pair's answer and pair groups (`Pairs.loss_groups`).
    The learning rate rises over the first `warmup` share of the steps, then falls linearly to 0;
    each epoch's batches come from `bucketed_batches`."""
    rng = np.random.default_rng(config.seed)
    encoder.trainable_parameters()  # everything else frozen
    lengths = train[0].lengths() + train[1].lengths()
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    total = max(1, config.epochs * steps_per_epoch)
    warmup = max(1, int(config.warmup * total))

    def lr_factor(step: int) -> float:
        return min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))

    def batches(epoch: int) -> list[np.ndarray]:
        return bucketed_batches(lengths, config.batch_size, rng, config.length_buckets)

    def loss(batch: np.ndarray) -> torch.Tensor:
        return symmetric_mnr_loss(
            encoder.upper(*train[0].batch(batch)),
            encoder.upper(*train[1].batch(batch)),
            scale=config.scale,
            groups=None if groups is None else torch.as_tensor(groups[batch]),
        )

    def evaluate() -> Evaluation:
        questions, answers = embed_states(encoder, val[0]), embed_states(encoder, val[1])
        return Evaluation.of(questions, answers, config.scale)

    result = fit(
        encoder.upper_layers,
        config,
        batches=batches,
        loss=loss,
        evaluate=evaluate,
        lr_factor=lr_factor,
        desc="tuning encoder",
        progress=progress,
    )
    encoder.train(False)
    return result
