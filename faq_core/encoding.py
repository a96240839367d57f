"""Turning FAQ entries into the vectors the store keeps; shared by the indexer and the service."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faq_core.answer_encoding import AnswerEncoding
from faq_core.entries import FaqEntry
from faq_core.servable import Servable
from faq_core.store.base import EncodedEntry


def entry_texts(entries: Sequence[FaqEntry], encoding: AnswerEncoding) -> list[str]:
    """The answers' texts (`AnswerEncoding.texts`), then the questions of the entries that have
    one: one list, so batches stay full."""
    return encoding.texts(entries) + [e.question for e in entries if e.question is not None]


def pair_vectors(
    entries: Sequence[FaqEntry], vectors: np.ndarray, encoding: AnswerEncoding
) -> list[EncodedEntry]:
    """Give each entry its vectors back from the embeddings of `entry_texts(entries, encoding)`."""
    answer_rows = len(vectors) - sum(e.question is not None for e in entries)
    answers = encoding.combine(vectors[:answer_rows])
    question_vectors = iter(vectors[answer_rows:])
    return [
        EncodedEntry(
            entry, answers[i], next(question_vectors) if entry.question is not None else None
        )
        for i, entry in enumerate(entries)
    ]


def encode_entries(
    servable: Servable, entries: Sequence[FaqEntry], batch_size: int = 64
) -> list[EncodedEntry]:
    encoding = servable.answer_encoding
    vectors = servable.encode(entry_texts(entries, encoding), batch_size=batch_size)
    return pair_vectors(entries, vectors, encoding)
