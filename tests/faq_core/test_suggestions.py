"""The suggestions policy: which users' questions to propose for which entries, grouped; with
hand-made vectors (a question's meaning is the axis it lies on)."""

from __future__ import annotations

import numpy as np

from faq_core.entries import question_key
from faq_core.feedback import FeedbackEvent
from faq_core.reviews import Review, pair_digest
from faq_core.suggestions import (
    SUGGEST_MIN_CONFIDENCE,
    Decided,
    Evidence,
    from_feedback,
    from_unanswered,
    suggest,
    suggestion_id,
)
from faq_core.unanswered import Candidate, UnansweredQuestion

# Two meanings: questions about passwords lie on axis 0, about invoices on axis 1.
MEANING = {
    "reset my password": 0,
    "forgot password": 0,
    "password reset pls": 0,
    "can i get an invoice": 1,
    "invoice please": 1,
}


def vectors(questions: list[str]) -> np.ndarray:
    rows = np.zeros((len(questions), 4), dtype=np.float32)
    for i, q in enumerate(questions):
        rows[i, MEANING[q]] = 1.0
    return rows


def unanswered(question: str, best: str, confidence: float, at: str, reason: str = "no_match"):
    return UnansweredQuestion(
        question=question,
        reason=reason,  # type: ignore[arg-type]
        candidates=(Candidate(best, confidence), Candidate("other", confidence / 2)),
        created_at=at,
    )


NOTHING = Decided(frozenset(), frozenset())
ENTRIES = {"pw": {question_key("how do i reset my password?")}, "billing": set(), "other": set()}


def test_plausible_unanswered_questions_are_grouped_by_entry_and_meaning_biggest_first() -> None:
    records = [
        unanswered("reset my password", "pw", 0.4, "2026-12-01T00:00:01Z"),
        unanswered("forgot password", "pw", 0.3, "2026-12-01T00:00:02Z"),
        unanswered("reset my password", "pw", 0.5, "2026-12-01T00:00:03Z", "ambiguous"),
        unanswered("can i get an invoice", "billing", 0.2, "2026-12-01T00:00:04Z"),
        unanswered("invoice please", "pw", SUGGEST_MIN_CONFIDENCE / 2, "2026-12-01T00:00:05Z"),
    ]
    found = suggest(from_unanswered(records), NOTHING, ENTRIES, vectors)
    assert [(s.entry_id, s.questions, s.count) for s in found] == [
        ("pw", ["reset my password", "forgot password"], 3),
        ("billing", ["can i get an invoice"], 1),
    ]
    first = found[0]
    assert first.reasons == {"unanswered": 3, "chosen": 0, "ambiguous": 0}
    assert (first.first_seen, first.last_seen) == ("2026-12-01T00:00:01Z", "2026-12-01T00:00:03Z")
    assert first.id == suggestion_id("pw", "reset my password")


def test_unhelpful_records_and_implausible_candidates_are_no_evidence() -> None:
    records = [
        unanswered("forgot password", "pw", 0.05, "t1"),
        UnansweredQuestion("reset my password", "unhelpful", (Candidate("pw"),), created_at="t2"),
    ]
    assert from_unanswered(records) == []


def feedback(question: str, answer: str, helpful: bool, **asked) -> FeedbackEvent:
    return FeedbackEvent(question=question, answer_id=answer, helpful=helpful, **asked)


def test_entries_users_chose_that_were_not_given_are_evidence() -> None:
    events = [
        # Chosen from suggestions after the service did not answer.
        feedback("forgot password", "pw", True, answered=False, reason="no_match", ranked=("pw",)),
        # Second of the answers, chosen over the first.
        feedback("reset my password", "pw", True, answered=True, ranked=("billing", "pw")),
        # The first answer, given: nothing to learn.
        feedback("invoice please", "billing", True, answered=True, ranked=("billing", "pw")),
        # Ambiguous, and the user turned the first down: the other is proposed.
        feedback(
            "can i get an invoice",
            "pw",
            False,
            answered=False,
            reason="ambiguous",
            ranked=("pw", "billing"),
        ),
        # Kept before the service recorded what it answers: nothing known.
        feedback("password reset pls", "pw", True),
    ]
    found = from_feedback(events)
    assert [(e.question, e.entry_id, e.reason) for e in found] == [
        ("forgot password", "pw", "chosen"),
        ("reset my password", "pw", "chosen"),
        ("can i get an invoice", "billing", "ambiguous"),
    ]


def test_decided_questions_and_rejected_pairs_are_never_proposed_again() -> None:
    evidence = [
        Evidence("reset my password", "pw", "unanswered", "t1"),
        Evidence("forgot password", "pw", "unanswered", "t2"),
        Evidence("forgot password", "billing", "chosen", "t3"),
        Evidence("can i get an invoice", "billing", "unanswered", "t4"),
    ]
    decided = Decided.of(
        [Review("reset my password", "attached", "other")],
        [pair_digest("FORGOT  password", "pw")],
    )
    found = suggest(evidence, decided, ENTRIES, vectors)
    assert sorted((s.entry_id, tuple(s.questions)) for s in found) == [
        ("billing", ("can i get an invoice",)),
        ("billing", ("forgot password",)),
    ]


def test_questions_an_entry_has_and_entries_gone_are_left_out() -> None:
    evidence = [
        Evidence("How do I reset my password?", "pw", "unanswered", "t1"),
        Evidence("reset my password", "deleted-entry", "unanswered", "t2"),
    ]
    assert suggest(evidence, NOTHING, ENTRIES, vectors) == []
