"""Named training recipes: which encoder layers learn, for how long, and the head on top.

The figures behind each choice are in the README's quality section (cloud FAQ val split).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import torch

from training.encoder_loop import EncoderConfig
from training.loop import TrainConfig


@dataclass(frozen=True)
class Recipe:
    """Tune the encoder's upper layers (`encoder`; None keeps it frozen), then train `head` on the
    (tuned) encoder's embeddings."""

    encoder: EncoderConfig | None
    head: TrainConfig

    @property
    def method(self) -> str:
        head = "SkipConnectionHead" if self.head.epochs > 0 else "no head"
        if self.encoder is None or self.encoder.trainable_layers == 0:
            return f"frozen encoder + {head}, symmetric MNR loss"
        mixed = (
            f", averaged with {self.encoder.base_share:.0%} of the untuned weights"
            if self.encoder.base_share > 0
            else ""
        )
        return (
            f"top {self.encoder.trainable_layers} encoder layers tuned over cached lower-layer"
            f" outputs{mixed}, then {head}; symmetric MNR loss"
        )

    def record(self) -> dict[str, Any]:
        """What the manifest keeps (and `--skip-if-current` compares): the head's settings at the
        top level, as the reference method always wrote them, and the encoder's beside them."""
        record: dict[str, Any] = {"method": self.method, **self.head.as_dict()}
        if self.encoder is not None and self.encoder.trainable_layers > 0:
            record["encoder"] = self.encoder.as_dict()
        return record

    def with_encoder(self, **changes: Any) -> Recipe:
        encoder = replace(self.encoder or EncoderConfig(trainable_layers=0), **changes)
        return replace(self, encoder=encoder if encoder.trainable_layers > 0 else None)

    def with_head(self, **changes: Any) -> Recipe:
        return replace(self, head=replace(self.head, **changes))


RECIPES: dict[str, Recipe] = {
    # The default: the top 4 of MiniLM's 6 layers learn for 2 epochs (about 8 minutes on 2 idle
    # CPU cores), then 30% of the untuned weights are averaged back in, which keeps the gain on
    # the cloud FAQ and undoes the loss on other FAQs. No head: on top of the tuned encoder it
    # added half a point on the cloud FAQ and cost as much on the other FAQs.
    "default": Recipe(
        encoder=EncoderConfig(
            trainable_layers=4, epochs=2, batch_size=64, learning_rate=2e-4, base_share=0.3
        ),
        head=TrainConfig(epochs=0),
    ),
    # On a GPU a training step costs next to nothing, so all six layers learn, in batches of 512
    # (more in-batch negatives) for 6 epochs: about 20 seconds on an H100. The same averaging.
    # Batches of 1024 for 8 epochs gained 0.006 pool P@1 but cost the paraphrase check 0.05 P@1
    # (README, quality section): this is the larger recipe that still forgets nothing.
    # Batches are drawn at random, not by length: padding is cheap there, and a batch of 512 cut
    # from length-sorted chunks would hold texts of one length only.
    "gpu": Recipe(
        encoder=EncoderConfig(
            trainable_layers=6,
            epochs=6,
            batch_size=512,
            learning_rate=2e-4,
            base_share=0.3,
            length_buckets=False,
        ),
        head=TrainConfig(epochs=0),
    ),
    # The reference method: frozen encoder, head only (about 3 minutes, 1.5 with a warm cache).
    "head": Recipe(encoder=None, head=TrainConfig()),
}

AUTO = "auto"


def recipe_name(name: str, device: torch.device) -> str:
    """`auto` is the GPU recipe when training runs on CUDA, else the default (CPU) recipe."""
    if name != AUTO:
        return name
    return "gpu" if device.type == "cuda" else "default"
