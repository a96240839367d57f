"""Suggestions from traffic: users' questions proposed as phrasings of entries, and what people
decide about them.

The evidence is read from the unanswered log and the feedback log each time the suggestions are
listed, and the policy (faq_core.suggestions) picks and groups it; nothing is kept for a
suggestion but the decisions: the reviews log, with users' words and the unanswered log's
retention, and the rejections log, a digest per rejected pair and no words, kept for good
(faq_core.reviews).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np

from faq_core.entries import FaqEntry, question_key
from faq_core.errors import NotSuggested, SuggestionNotFound
from faq_core.feedback import FeedbackEvent
from faq_core.records import RecordLog
from faq_core.reviews import Rejection, Review, Verdict, pair_digest
from faq_core.settings import Settings
from faq_core.suggestions import (
    Decided,
    Suggestion,
    from_feedback,
    from_unanswered,
    suggest,
)
from faq_core.unanswered import UnansweredQuestion, pack_vector, question_vectors

log = logging.getLogger(__name__)
# The reviews log drops what is past retention at most this often.
RETAIN_EVERY_S = 3600.0

Encode = Callable[[list[str]], Awaitable[np.ndarray]]
Entries = Callable[[list[str]], Awaitable[dict[str, FaqEntry]]]


class SuggestionBook:
    def __init__(
        self,
        reviews: RecordLog[Review],
        rejections: RecordLog[Rejection],
        settings: Settings,
    ) -> None:
        self.reviews = reviews
        self.rejections = rejections
        self._retention_days = settings.unanswered_retention_days
        self._retained_at = 0.0

    async def suggestions(
        self,
        unanswered: list[UnansweredQuestion],
        feedback: list[FeedbackEvent],
        *,
        model_id: str,
        encode: Encode,
        entries: Entries,
    ) -> tuple[list[Suggestion], dict[str, FaqEntry]]:
        """The open suggestions, biggest first (faq_core.suggestions.suggest), and the entries
        they are for."""
        evidence = from_unanswered(unanswered) + from_feedback(feedback)
        reviews, rejected = await asyncio.gather(
            asyncio.to_thread(self.reviews.records), asyncio.to_thread(self.rejections.records)
        )
        decided = Decided.of(reviews, (r.pair for r in rejected))
        evidence = [e for e in evidence if decided.allows(e)]
        existing = await entries(sorted({e.entry_id for e in evidence}))
        questions_of = {
            eid: {question_key(q) for q in entry.questions} for eid, entry in existing.items()
        }
        # Kept vectors where the serving model made them; the other questions encoded.
        known, _ = await asyncio.to_thread(question_vectors, unanswered, model_id)
        wanted = sorted({e.question for e in evidence} - known.keys())
        if wanted:
            known.update(zip(wanted, await encode(wanted), strict=True))
        found = await asyncio.to_thread(
            suggest,
            evidence,
            decided,
            questions_of,
            lambda questions: np.stack([known[q] for q in questions]),
        )
        return found, existing

    async def record(
        self,
        questions: Sequence[str],
        verdict: Verdict,
        entry_id: str,
        *,
        suggested: str | None,
        model_id: str,
        vectors: np.ndarray,
    ) -> None:
        """Keep a decision on each question (durable when this returns)."""
        reviews = [
            Review(
                question=q,
                verdict=verdict,
                entry_id=entry_id,
                suggested=suggested,
                model_id=model_id,
                vector=pack_vector(v),
            )
            for q, v in zip(questions, vectors, strict=True)
        ]
        if verdict == "rejected":
            # The digests first: a crash in between must not let a rejected pair come back.
            pairs = [Rejection(pair_digest(q, entry_id)) for q in questions]
            await asyncio.to_thread(self.rejections.append_many, pairs)
        await asyncio.to_thread(self.reviews.append_many, reviews)
        if time.monotonic() - self._retained_at > RETAIN_EVERY_S:
            self._retained_at = time.monotonic()
            await asyncio.to_thread(self._retain)

    def _retain(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(days=self._retention_days)
        removed = self.reviews.delete_older_than(cutoff)
        if removed:
            log.info("dropped %d reviews past retention", removed)


def find(suggestions: Sequence[Suggestion], suggestion_id: str) -> Suggestion:
    for suggestion in suggestions:
        if suggestion.id == suggestion_id:
            return suggestion
    raise SuggestionNotFound(suggestion_id)


def chosen(suggestion: Suggestion, questions: Sequence[str] | None) -> list[str]:
    """The suggestion's questions that `questions` names (case and spacing aside), all of them
    when None; NotSuggested for one it does not hold."""
    if questions is None:
        return list(suggestion.questions)
    held = {question_key(q): q for q in suggestion.questions}
    missing = [q for q in questions if question_key(q) not in held]
    if missing:
        raise NotSuggested(suggestion.id, missing)
    return list(dict.fromkeys(held[question_key(q)] for q in questions))
