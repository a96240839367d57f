"""Turning FAQ entries into the vectors the store keeps; shared by the indexer and the service."""

from __future__ import annotations

from collections.abc import Sequence

from faq_core.entries import FaqEntry
from faq_core.servable import Servable
from faq_core.store.base import EncodedEntry


def encode_entries(
    servable: Servable, entries: Sequence[FaqEntry], batch_size: int = 64
) -> list[EncodedEntry]:
    """Answers and questions go through the model together, so batches stay full."""
    questions = [e.question for e in entries if e.question is not None]
    vectors = servable.encode([e.answer for e in entries] + questions, batch_size=batch_size)
    answer_vectors, question_vectors = vectors[: len(entries)], iter(vectors[len(entries) :])
    return [
        EncodedEntry(entry, answer_vectors[i], next(question_vectors) if entry.question else None)
        for i, entry in enumerate(entries)
    ]
