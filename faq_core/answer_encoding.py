"""How a servable turns an FAQ entry's answer into the vector the store keeps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from faq_core.entries import FaqEntry


@dataclass(frozen=True)
class AnswerEncoding:
    """The answer alone, or with the entry's `context` fields before it (`FaqEntry.answer_text`),
    or the two embeddings mixed: `weight` is the contextual one's share.

    An answer alone often does not name its product; its page does. But answers of one page in
    context come to resemble each other more than their questions, so a mix can keep both.
    """

    context: tuple[str, ...] = ()
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.weight <= 1:
            raise ValueError(f"the answer context's weight must be in (0, 1], not {self.weight}")
        if not self.context:  # nothing to mix in: one plain answer, however it was asked for
            object.__setattr__(self, "weight", 1.0)

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> AnswerEncoding:
        return cls(
            tuple(manifest.get("answer_context", ())),
            float(manifest.get("answer_context_weight", 1.0)),
        )

    def record(self) -> dict[str, Any]:
        """What a manifest keeps of it (read back by `from_manifest`)."""
        return {"answer_context": list(self.context), "answer_context_weight": self.weight}

    @property
    def mixes(self) -> bool:
        return bool(self.context) and self.weight < 1

    @property
    def trained_context(self) -> tuple[str, ...]:
        """The context the model is tuned with: the whole of it when each answer is encoded in
        context alone; none when the context is mixed in, since the model must then also
        encode the plain answers it mixes with."""
        return () if self.mixes else self.context

    def texts(self, entries: Sequence[FaqEntry]) -> list[str]:
        """What to encode for the entries' answers: one text each, or two when mixing (all
        plain answers, then all contextual ones); `combine` makes one vector each of them."""
        if not self.mixes:
            return [e.answer_text(self.context) for e in entries]
        return [e.answer for e in entries] + [e.answer_text(self.context) for e in entries]

    def combine(self, vectors: np.ndarray) -> np.ndarray:
        """One unit vector per answer from the embeddings of `texts(entries)`."""
        if not self.mixes:
            return vectors
        plain, contextual = np.split(vectors, 2)
        mixed = (1 - self.weight) * plain + self.weight * contextual
        return (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(vectors.dtype)
