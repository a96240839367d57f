"""Named training recipes: which encoder layers learn, for how long, and the head on top.

The figures behind each choice are in the README's quality section (cloud FAQ val split).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

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
        if self.encoder is None or self.encoder.trainable_layers == 0:
            return "frozen encoder + SkipConnectionHead, symmetric MNR loss"
        return (
            f"top {self.encoder.trainable_layers} encoder layers tuned over cached lower-layer"
            " outputs, then SkipConnectionHead; symmetric MNR loss"
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
    # The default: the top 4 of MiniLM's 6 layers learn for 2 epochs (about 8 minutes on 2 CPU
    # cores), then a skip-connection head for 40 epochs on the tuned embeddings (half a minute).
    "default": Recipe(
        encoder=EncoderConfig(trainable_layers=4, epochs=2, batch_size=64, learning_rate=2e-4),
        head=TrainConfig(epochs=40),
    ),
    # The reference method: frozen encoder, head only (about 3 minutes, 1.5 with a warm cache).
    "head": Recipe(encoder=None, head=TrainConfig()),
}
