"""The head's training loop over cached embeddings: only the head learns (`training.fit`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from training.fit import Evaluation, TrainResult, fit
from training.loss import symmetric_mnr_loss


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    scale: float = 20.0
    skip_dropout: float = 0.0
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def train_head(
    head: torch.nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    *,
    groups: np.ndarray | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train `head` in place on (question, answer) embedding pairs; at the end it holds the
    weights of the epoch with the best val pool MRR, epoch 0 being the untrained head. Each
    epoch is a fresh random order cut into batches of `batch_size` (a last one of fewer than 2
    pairs, which has no negative, is left out)."""
    train_q, train_a = (torch.as_tensor(x, dtype=torch.float32) for x in train)
    val_q, val_a = (torch.as_tensor(x, dtype=torch.float32) for x in val)

    def batches(epoch: int) -> list[torch.Tensor]:
        order = torch.randperm(len(train_q))
        cuts = [order[s : s + config.batch_size] for s in range(0, len(order), config.batch_size)]
        return [batch for batch in cuts if len(batch) >= 2]

    train_groups = None if groups is None else torch.as_tensor(groups)

    def loss(batch: torch.Tensor) -> torch.Tensor:
        return symmetric_mnr_loss(
            head(train_q[batch]),
            head(train_a[batch]),
            scale=config.scale,
            groups=None if train_groups is None else train_groups[batch],
        )

    def evaluate() -> Evaluation:
        head.eval()
        with torch.no_grad():
            return Evaluation.of(head(val_q), head(val_a), config.scale)

    return fit(
        head,
        config,
        batches=batches,
        loss=loss,
        evaluate=evaluate,
        desc="training head",
        progress=progress,
    )
