"""Which users' questions to propose as phrasings of which entries: pure decisions over the logs.

The evidence, each a (question, entry) pair with a reason:

- `unanswered`: a question `/ask` did not answer (no match, or ambiguous) whose most likely
  entry was plausible, at least SUGGEST_MIN_CONFIDENCE likely to answer it;
- `chosen`: a question whose user marked an entry helpful that the service had not given as its
  answer (not first, or not answered at all: a chatbot showing suggestions lets the user pick);
- `ambiguous`: a question answered ambiguously whose user marked one of the two close entries
  unhelpful: the other one.

Pairs a person decided are never proposed again: a question attached to an entry or answered by
one written for it, and a rejected (question, entry) pair. Nor is a question an entry has already.
What remains is grouped by entry, then by meaning (`faq_core.unanswered.greedy_groups` over the
model's embeddings): each group is one suggestion, biggest first.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from faq_core.entries import question_key
from faq_core.feedback import FeedbackEvent
from faq_core.reviews import Review, pair_digest
from faq_core.unanswered import GROUP_SIMILARITY, UnansweredQuestion, greedy_groups

Reason = Literal["unanswered", "chosen", "ambiguous"]
REASONS: tuple[Reason, ...] = ("unanswered", "chosen", "ambiguous")
# The least likely an entry may be to answer an unanswered question and still be proposed for
# it: below, most questions no entry answers (docs/quality.md).
SUGGEST_MIN_CONFIDENCE = 0.1


@dataclass(frozen=True)
class Evidence:
    """One reason to propose `question` as a phrasing of `entry_id`."""

    question: str
    entry_id: str
    reason: Reason
    created_at: str


def from_unanswered(records: Iterable[UnansweredQuestion]) -> list[Evidence]:
    """Unanswered questions whose best candidate was plausible."""
    found = []
    for record in records:
        if record.reason == "unhelpful" or not record.candidates:
            continue
        best = record.candidates[0]
        if best.confidence is not None and best.confidence >= SUGGEST_MIN_CONFIDENCE:
            found.append(Evidence(record.question, best.id, "unanswered", record.created_at))
    return found


def from_feedback(events: Iterable[FeedbackEvent]) -> list[Evidence]:
    """Entries users chose that the service had not given, and the other of two close entries
    where the user turned one down."""
    found = []
    for event in events:
        ranked = event.ranked
        if ranked is None:  # recorded before the service kept what it would answer
            continue
        if event.helpful and (not event.answered or ranked[:1] != (event.answer_id,)):
            found.append(Evidence(event.question, event.answer_id, "chosen", event.created_at))
        elif not event.helpful and event.reason == "ambiguous" and event.answer_id in ranked[:2]:
            other = ranked[1] if ranked[0] == event.answer_id else ranked[0]
            found.append(Evidence(event.question, other, "ambiguous", event.created_at))
    return found


@dataclass(frozen=True)
class Decided:
    """What people decided already: questions (`question_key`) attached to an entry or answered
    by one written for them, and rejected pairs (`pair_digest`)."""

    questions: frozenset[str]
    rejected: frozenset[str]

    @classmethod
    def of(cls, reviews: Iterable[Review], rejected: Iterable[str]) -> Decided:
        return cls(
            frozenset(question_key(r.question) for r in reviews if r.verdict != "rejected"),
            frozenset(rejected),
        )

    def allows(self, evidence: Evidence) -> bool:
        return (
            question_key(evidence.question) not in self.questions
            and pair_digest(evidence.question, evidence.entry_id) not in self.rejected
        )


@dataclass(frozen=True)
class Suggestion:
    """Users' questions of one meaning, proposed as phrasings of one entry."""

    id: str
    entry_id: str
    questions: list[str]  # distinct, most frequent first
    count: int  # pieces of evidence, repeats included
    reasons: dict[str, int]
    first_seen: str
    last_seen: str


def suggestion_id(entry_id: str, question: str) -> str:
    """Named by its entry and its earliest question, so that more evidence for it keeps it."""
    return hashlib.sha256(f"{entry_id}\x1f{question_key(question)}".encode()).hexdigest()[:20]


def suggest(
    evidence: Sequence[Evidence],
    decided: Decided,
    questions_of: Mapping[str, Collection[str]],
    vectors: Callable[[list[str]], np.ndarray],
    similarity: float = GROUP_SIMILARITY,
) -> list[Suggestion]:
    """The open suggestions, biggest first (then oldest). `questions_of` holds the entries that
    exist now, each with the `question_key`s of its questions; `vectors` embeds distinct
    questions (unit vectors, in the order given) as the serving model does."""
    open_evidence = [
        e
        for e in evidence
        if e.entry_id in questions_of
        and question_key(e.question) not in questions_of[e.entry_id]
        and decided.allows(e)
    ]
    by_entry: dict[str, list[Evidence]] = {}
    for item in open_evidence:
        by_entry.setdefault(item.entry_id, []).append(item)
    distinct = sorted({e.question for e in open_evidence})
    table = dict(zip(distinct, vectors(distinct), strict=True)) if distinct else {}
    suggestions = []
    for entry_id, items in by_entry.items():
        counts = Counter(e.question for e in items)
        ordered = [q for q, _ in counts.most_common()]
        member_of, groups = greedy_groups(
            np.stack([table[q] for q in ordered]).astype(np.float32), similarity
        )
        of_question = dict(zip(ordered, member_of.tolist(), strict=True))
        for g in range(groups):
            members = [e for e in items if of_question[e.question] == g]
            suggestions.append(_suggestion(entry_id, members))
    suggestions.sort(key=lambda s: (-s.count, s.first_seen, s.id))
    return suggestions


def _suggestion(entry_id: str, members: list[Evidence]) -> Suggestion:
    counts = Counter(e.question for e in members)
    reasons = Counter(e.reason for e in members)
    earliest = min(members, key=lambda e: (e.created_at, e.question))
    return Suggestion(
        id=suggestion_id(entry_id, earliest.question),
        entry_id=entry_id,
        questions=[q for q, _ in counts.most_common()],
        count=len(members),
        reasons={reason: reasons.get(reason, 0) for reason in REASONS},
        first_seen=earliest.created_at,
        last_seen=max(e.created_at for e in members),
    )
