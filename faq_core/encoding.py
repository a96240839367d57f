"""Turning FAQ entries into the vectors the store keeps; shared by the indexer and the service."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from faq_core.answer_encoding import AnswerEncoding
from faq_core.entries import FaqEntry
from faq_core.servable import Servable
from faq_core.store.base import EncodedEntry
from faq_core.store.carry import Encoder


def entry_texts(entries: Sequence[FaqEntry], encoding: AnswerEncoding) -> list[str]:
    """The answers' texts (`AnswerEncoding.texts`), then the questions of the entries, FAQ
    question and phrasings: one list, so batches stay full."""
    return encoding.texts(entries) + [q for e in entries for q in e.questions]


def pair_vectors(
    entries: Sequence[FaqEntry], vectors: np.ndarray, encoding: AnswerEncoding
) -> list[EncodedEntry]:
    """Give each entry its vectors back from the embeddings of `entry_texts(entries, encoding)`."""
    answer_rows = len(vectors) - sum(len(e.questions) for e in entries)
    answers = encoding.combine(vectors[:answer_rows])
    questions = iter(vectors[answer_rows:])
    encoded = []
    for entry, answer in zip(entries, answers, strict=True):
        question = next(questions) if entry.question is not None else None
        phrasings = tuple(next(questions) for _ in entry.phrasings)
        encoded.append(EncodedEntry(entry, answer, question, phrasings))
    return encoded


def encode_entries(
    servable: Servable, entries: Sequence[FaqEntry], batch_size: int = 64
) -> list[EncodedEntry]:
    encoding = servable.answer_encoding
    vectors = servable.encode(entry_texts(entries, encoding), batch_size=batch_size)
    return pair_vectors(entries, vectors, encoding)


def encoder_for(servable: Servable, batch_size: int = 64) -> Encoder:
    """What carrying runtime entries and phrasings into a version of `servable` encodes with."""

    def texts(questions: list[str]) -> np.ndarray:
        return servable.encode(questions, batch_size=batch_size)

    def entries(batch: Sequence[FaqEntry]) -> list[EncodedEntry]:
        return encode_entries(servable, batch, batch_size)

    return Encoder(entries, texts)
