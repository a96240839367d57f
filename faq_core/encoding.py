"""Turning FAQ entries into the vectors the store keeps; shared by the indexer and the service."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faq_core.entries import FaqEntry
from faq_core.servable import Servable
from faq_core.store.base import EncodedEntry


def entry_texts(entries: Sequence[FaqEntry], answer_context: Sequence[str] = ()) -> list[str]:
    """All answers (each with its `answer_context`, see `FaqEntry.answer_text`), then the
    questions of the entries that have one, so batches stay full."""
    answers = [e.answer_text(answer_context) for e in entries]
    return answers + [e.question for e in entries if e.question is not None]


def pair_vectors(entries: Sequence[FaqEntry], vectors: np.ndarray) -> list[EncodedEntry]:
    """Give each entry its vectors back from the embeddings of `entry_texts(entries)`."""
    question_vectors = iter(vectors[len(entries) :])
    return [
        EncodedEntry(
            entry, vectors[i], next(question_vectors) if entry.question is not None else None
        )
        for i, entry in enumerate(entries)
    ]


def encode_entries(
    servable: Servable, entries: Sequence[FaqEntry], batch_size: int = 64
) -> list[EncodedEntry]:
    texts = entry_texts(entries, servable.answer_context)
    return pair_vectors(entries, servable.encode(texts, batch_size=batch_size))
