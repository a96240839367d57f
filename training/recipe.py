"""Named training recipes: which encoder layers learn, for how long, and the head on top.

Why each recipe is what it is, with the figures and the times: docs/quality.md ("The recipes
compared", "GPU runs", "The forgetting check").
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
        if not self.learns:
            return "the base model as it is: nothing trained"
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

    @property
    def learns(self) -> bool:
        """False for the base model as it is: no encoder layer and no head trains."""
        return self.encoder is not None or self.head.epochs > 0

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
    # CPU: the top 4 of MiniLM's 6 layers learn for 2 epochs, then 30% of the untuned weights
    # are averaged back in (`training.weight_mixing`); no head.
    "default": Recipe(
        encoder=EncoderConfig(
            trainable_layers=4, epochs=2, batch_size=64, learning_rate=2e-4, base_share=0.3
        ),
        head=TrainConfig(epochs=0),
    ),
    # GPU: all six layers learn, in batches of 512 (more in-batch negatives) for 6 epochs; the
    # same averaging; no head. Larger batches fail the forgetting check. Batches are drawn at
    # random, not by length: padding is cheap there, and a batch of 512 cut from length-sorted
    # chunks would hold texts of one length only.
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
    # The reference method: the encoder frozen, a head trained on its cached embeddings.
    "head": Recipe(encoder=None, head=TrainConfig()),
    # The base model as it is, for an FAQ too small to learn from: nothing trains, so every pair
    # is one the model never saw, and the confidence model is fitted on all of them
    # (`training.train`) rather than on a quarter.
    "untrained": Recipe(encoder=None, head=TrainConfig(epochs=0)),
}

AUTO = "auto"
# Below this many FAQ entries `auto` trains nothing. On FAQs of 40 and 125 entries tuning moved
# right-first by under a point, and a confidence model fitted on a quarter of the entries answered
# 45% of the questions no entry answers; fitted on every entry of the untrained model it kept
# precision above 0.90 (docs/quality.md, "A small FAQ of your own").
SMALL_FAQ_ENTRIES = 500


def recipe_name(name: str, device: torch.device, entries: int | None = None) -> str:
    """`auto` is the untrained recipe for an FAQ of fewer than SMALL_FAQ_ENTRIES `entries`, else
    the GPU recipe when training runs on CUDA, else the default (CPU) recipe."""
    if name != AUTO:
        return name
    if entries is not None and entries < SMALL_FAQ_ENTRIES:
        return "untrained"
    return "gpu" if device.type == "cuda" else "default"
