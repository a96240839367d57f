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
    # The reference method: frozen encoder, head only (about 3 minutes, 1.5 with a warm cache).
    "head": Recipe(encoder=None, head=TrainConfig()),
}
