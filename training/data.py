"""Training data: (question, answer) pairs from JSON Lines files, and the reference split."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faq_core.entries import FaqEntry
from faq_core.errors import DataFileError
from faq_core.sources import DEFAULT_LIMITS, Location, is_url, iter_entries, load, read_entries


@dataclass(frozen=True)
class Pairs:
    """Questions and their answers, aligned by position."""

    questions: list[str]
    answers: list[str]
    sources: list[str | None]

    def __len__(self) -> int:
        return len(self.questions)

    @classmethod
    def from_entries(
        cls,
        entries: list[FaqEntry],
        answer_context: Sequence[str] = (),
        *,
        every_question: bool = False,
    ) -> Pairs:
        """Each answer with this context before it (`FaqEntry.answer_text`): as the model is
        tuned on it (`AnswerEncoding.trained_context`). One pair per entry, its FAQ question;
        with `every_question`, one per question of the entry, its phrasings too."""
        asked = [
            (question, e)
            for e in entries
            for question in (e.questions if every_question and e.phrasings else [e.question or ""])
        ]
        return cls(
            questions=[q for q, _ in asked],
            answers=[e.answer_text(answer_context) for _, e in asked],
            sources=[e.source for _, e in asked],
        )

    def loss_groups(self) -> np.ndarray:
        """(n, 2): a number per pair for its answer and one for the pair itself, the same for
        pairs with the same answer (resp. the same question and answer): `training.loss`."""
        answers = np.array(self.answers, dtype=object)
        asked = np.array([f"{q}\0{a}" for q, a in zip(self.questions, self.answers)], dtype=object)
        _, answer = np.unique(answers, return_inverse=True)
        _, pair = np.unique(asked, return_inverse=True)
        return np.stack([answer.ravel(), pair.ravel()], axis=1).astype(np.int64)

    def __add__(self, other: Pairs) -> Pairs:
        return Pairs(
            self.questions + other.questions,
            self.answers + other.answers,
            self.sources + other.sources,
        )


def load_pair_entries(path: Location, limit: int | None = None) -> list[FaqEntry]:
    """Every line must have a question and an answer; a bad line stops with file and line."""
    entries = read_entries(path, require_question=True)
    return entries[:limit] if limit else entries


def load_pairs(
    path: Location, limit: int | None = None, answer_context: Sequence[str] = ()
) -> Pairs:
    return Pairs.from_entries(load_pair_entries(path, limit), answer_context)


def load_feedback_pairs(paths: Sequence[Location], answer_context: Sequence[str] = ()) -> Pairs:
    """Accepted pairs from `faq-feedback export` files (or any pairs file); a bad line stops with
    file and line. An empty file is allowed: there may be no accepted feedback yet."""
    entries = [e for path in paths for e in iter_entries(path, require_question=True)]
    return Pairs.from_entries(entries, answer_context, every_question=True)


def reference_split(
    entries: list[FaqEntry], test_size: float = 0.25, seed: int = 42
) -> tuple[list[FaqEntry], list[FaqEntry]]:
    """The split the published figures use: stratified by source, scikit-learn, seed 42.

    Applied to the whole cloud FAQ file it gives exactly its train.jsonl and val.jsonl. An FAQ
    with a source of one entry (an imported page's entries name a URL each, or none) cannot be
    stratified: it is split at random, with the same seed.
    """
    from sklearn.model_selection import train_test_split

    indices = list(range(len(entries)))
    sources = [e.source or "" for e in entries]
    stratify = sources if min(Counter(sources).values(), default=0) >= 2 else None
    train_idx, val_idx = train_test_split(
        indices, test_size=test_size, stratify=stratify, random_state=seed
    )
    return [entries[i] for i in train_idx], [entries[i] for i in val_idx]


def file_checksum(path: Location) -> str:
    """sha256 of a file, read a block at a time; of a URL, of what it serves now."""
    if is_url(path):
        return hashlib.sha256(load(path, DEFAULT_LIMITS).data).hexdigest()
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:  # the reader would say the same, later: say it before any work
        raise DataFileError(path, 0, f"cannot open: {exc.strerror}") from exc
    return digest.hexdigest()
