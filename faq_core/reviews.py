"""What people decided about users' questions: a question attached to an entry, an entry written
for it, or a suggested entry rejected for it.

Two record logs (faq_core.records) beside the collection, outliving its versions like the
feedback: `reviews`, the decisions with the users' words (kept as long as the unanswered log
keeps them: `FAQ_UNANSWERED_RETENTION_DAYS`), which recalibrate when to answer
(faq_core.calibration); and `rejections`, a digest of each rejected (question, entry) pair and no
words, kept for good, so that a rejected suggestion never comes back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar, Literal

import numpy as np

from faq_core.answering import Confidence
from faq_core.calibration import Outcome
from faq_core.confidence import DEPTH
from faq_core.entries import phrasing_point_id, point_id, question_key
from faq_core.records import new_record_id, utc_now
from faq_core.store import Hit, SearchRequest

REVIEWS_LOG = "reviews"
REJECTIONS_LOG = "rejections"
Verdict = Literal["attached", "written", "rejected"]
VERDICTS: tuple[Verdict, ...] = ("attached", "written", "rejected")


def pair_digest(question: str, entry_id: str) -> str:
    """A (question, entry) pair as a rejection keeps it: the same question (`question_key`) and
    entry always give the same digest, which does not hold the question's words."""
    return hashlib.sha256(f"{question_key(question)}\x1f{entry_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Review:
    """One user question decided by a person.

    - `attached`: the entry `entry_id` answers it; it became one of the entry's phrasings;
    - `written`: no entry answered it, and `entry_id` was written for it;
    - `rejected`: the entry `entry_id` does not answer it.
    """

    kind: ClassVar[str] = "review"

    question: str
    verdict: Verdict
    entry_id: str
    suggested: str | None = None  # the entry the service suggested, when it came from one
    model_id: str | None = None  # the servable that made `vector`
    vector: str | None = None  # faq_core.unanswered.pack_vector of the question
    id: str = field(default_factory=new_record_id)
    created_at: str = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> Review:
        """Validate one stored record; raises ValueError saying what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        for key in ("id", "created_at", "question", "entry_id"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise ValueError(f"field {key!r} must be a non-empty string")
        if obj.get("verdict") not in VERDICTS:
            raise ValueError(f"field 'verdict' must be one of {', '.join(VERDICTS)}")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


@dataclass(frozen=True)
class Rejection:
    """A rejected (question, entry) pair, as a digest (`pair_digest`)."""

    kind: ClassVar[str] = "rejection"

    pair: str
    id: str = field(default_factory=new_record_id)
    created_at: str = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> Rejection:
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        for key in ("id", "created_at", "pair"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise ValueError(f"field {key!r} must be a non-empty string")
        return cls(obj["pair"], obj["id"], obj["created_at"])


def review_request(review: Review, vector: np.ndarray) -> SearchRequest:
    """The review's question asked as if new: without the phrasing it became, and without the
    entry written for it."""
    own = phrasing_point_id(review.entry_id, review.question)
    left_out = {
        "attached": (own,),
        "written": (own, point_id(review.entry_id)),
        "rejected": (),
    }[review.verdict]
    return SearchRequest(vector, DEPTH, not_ids=left_out)


def review_outcomes(
    reviews: Sequence[Review],
    found: Sequence[Sequence[Hit]],
    confidence: Confidence,
) -> list[Outcome]:
    """Each review's outcome from its search (`review_request`): attached, right when its entry
    comes first; written, never right; rejected, wrong when the rejected entry comes first and
    not counted otherwise (the right one is not known)."""
    outcomes = []
    for review, hits in zip(reviews, found, strict=True):
        ranked = confidence.rank(hits)
        first = ranked[0].hit.entry.entry_id if ranked else None
        c1 = ranked[0].confidence if ranked else 0.0
        if review.verdict == "attached":
            outcomes.append(Outcome(c1, first == review.entry_id))
        elif review.verdict == "written" or first == review.entry_id:
            outcomes.append(Outcome(c1, False))
    return outcomes
