"""The questions the FAQ could not answer, kept for the people who write it.

Every question `/ask` answered `false`, and every question whose answer got `helpful: false`
feedback, is a record of the collection's record log `unanswered` (faq_core.records): on the
embedded store the JSON Lines file `<store_path>/<collection>.unanswered.jsonl`, on a Qdrant
server the payload-only collection `<collection>_unanswered`, shared by every replica. Like the
feedback, it sits beside the collection and outlives every version of it.

`group` gathers near-duplicate questions with the model's own embeddings (a record keeps its
question's vector, so grouping encodes nothing again for the servable that asked it).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal

import numpy as np

from faq_core.records import RecordLog, new_record_id, parse_time, utc_now

UNANSWERED_LOG = "unanswered"
Reason = Literal["no_match", "ambiguous", "unhelpful"]
REASONS: tuple[Reason, ...] = ("no_match", "ambiguous", "unhelpful")
# Two questions belong to one group when their embeddings are at least this similar: rewordings
# of one question ("how do i reset my password" / "how can i reset my password?") score ~0.9,
# different questions on one topic ~0.6-0.8.
GROUP_SIMILARITY = 0.8
# Distinct questions whose similarities to the groups found so far are computed at once.
GROUP_BLOCK = 256


def pack_vector(vector: np.ndarray) -> str:
    """A question's unit vector as a record keeps it: float16, base64 (~1 KB for 384 numbers)."""
    return base64.b64encode(np.asarray(vector, dtype="<f2").tobytes()).decode()


def unpack_vector(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


@dataclass(frozen=True)
class Candidate:
    """An entry the service offered for the question, and how likely it was to answer it
    (None when not known: an answer that got `helpful: false` feedback)."""

    id: str
    confidence: float | None = None


@dataclass(frozen=True)
class UnansweredQuestion:
    """One question the FAQ did not answer, and why."""

    kind: ClassVar[str] = "unanswered question"

    question: str
    reason: Reason
    candidates: tuple[Candidate, ...] = ()  # best first
    source: str | None = None  # the source filter it was asked with
    candidate_source: str | None = None  # the best candidate's source
    model_id: str | None = None  # the servable that was answering
    vector: str | None = None  # pack_vector of the question, by `model_id`'s servable
    id: str = field(default_factory=new_record_id)
    created_at: str = field(default_factory=utc_now)  # UTC, ISO 8601

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "candidates": [asdict(c) for c in self.candidates]}

    @classmethod
    def from_json(cls, obj: Any) -> UnansweredQuestion:
        """Validate one stored record; raises ValueError saying what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        for key in ("id", "created_at", "question"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise ValueError(f"field {key!r} must be a non-empty string")
        if obj.get("reason") not in REASONS:
            raise ValueError(f"field 'reason' must be one of {', '.join(REASONS)}")
        candidates = obj.get("candidates") or []
        if not isinstance(candidates, list) or not all(
            isinstance(c, dict) and isinstance(c.get("id"), str) for c in candidates
        ):
            raise ValueError("field 'candidates' must be a list of {id, confidence}")
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in obj.items() if k in names}
        values["candidates"] = tuple(Candidate(c["id"], c.get("confidence")) for c in candidates)
        return cls(**values)

    def about(self, source: str) -> bool:
        """Asked with that source filter, or, asked without one, its best candidate is from
        that source."""
        return (self.source or self.candidate_source) == source


@dataclass
class Group:
    """Near-duplicate unanswered questions."""

    questions: list[str]  # distinct, most frequent first
    count: int
    first_seen: str
    last_seen: str
    best_candidate: Candidate | None
    reasons: dict[str, int]
    resolved: bool = False

    def as_json(self) -> dict[str, Any]:
        best = self.best_candidate
        return {
            "count": self.count,
            "questions": self.questions,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "best_candidate": None if best is None else asdict(best),
            "reasons": self.reasons,
            "resolved": self.resolved,
        }


def select(
    records: Sequence[UnansweredQuestion], since: datetime | None, source: str | None
) -> list[UnansweredQuestion]:
    return [
        r
        for r in records
        if (since is None or parse_time(r.created_at) >= since)
        and (source is None or r.about(source))
    ]


def question_vectors(
    records: Sequence[UnansweredQuestion], model_id: str
) -> tuple[dict[str, np.ndarray], list[str]]:
    """The question vectors the records keep, by question, where `model_id`'s servable made
    them (another servable's vectors are not comparable); and the distinct questions it must
    encode itself for grouping."""
    known = {
        r.question: unpack_vector(r.vector)
        for r in records
        if r.vector is not None and r.model_id == model_id
    }
    return known, sorted({r.question for r in records} - known.keys())


def greedy_groups(
    matrix: np.ndarray, similarity: float, block: int = GROUP_BLOCK
) -> tuple[np.ndarray, int]:
    """Rows in order, each joins the group of the most similar earlier leader when that is at
    least `similarity`, else leads a new group: each row's group number, and how many groups.

    The same decisions as taking the rows one by one, but the similarities to the leaders are
    computed a block of rows at a time (one matrix product, not one pass over every leader per
    row), so the log's size bound of distinct questions groups in seconds.
    """
    n = len(matrix)
    member_of = np.empty(n, dtype=np.int64)
    leaders = np.empty((n, matrix.shape[1]), dtype=matrix.dtype)  # the leaders' vectors
    count = 0
    for start in range(0, n, block):
        rows = matrix[start : start + block]
        # The closest leader from the blocks before, for every row of this one at once.
        earlier = np.full(len(rows), -1)
        earlier_sim = np.full(len(rows), -np.inf, dtype=matrix.dtype)
        if count:
            to_earlier = rows @ leaders[:count].T
            earlier = to_earlier.argmax(axis=1)
            earlier_sim = to_earlier[np.arange(len(rows)), earlier]
        within = rows @ rows.T
        new: list[int] = []  # rows of this block that lead, in order
        for j in range(len(rows)):
            best, best_sim = int(earlier[j]), earlier_sim[j]
            if new:
                here = within[j, new]
                b = int(np.argmax(here))
                if here[b] > best_sim:  # earlier leaders win ties, as one by one
                    best, best_sim = count + b, here[b]
            if best_sim >= similarity:
                member_of[start + j] = best
            else:
                member_of[start + j] = count + len(new)
                new.append(j)
        leaders[count : count + len(new)] = rows[new]
        count += len(new)
    return member_of, count


def group(
    records: Sequence[UnansweredQuestion],
    vectors: Callable[[list[str]], np.ndarray],
    similarity: float = GROUP_SIMILARITY,
) -> list[Group]:
    """Group the records' questions, biggest group first. `vectors` gives the unit vectors of
    the distinct questions (in the order given) as the serving model embeds them.

    Greedy (`greedy_groups`): questions in order of frequency, each joins the group whose first
    question (its most frequent) is the closest to it, when at least `similarity` close, else
    starts a group.
    """
    if not records:
        return []
    counts = Counter(r.question for r in records)
    distinct = [q for q, _ in counts.most_common()]
    member_of, count = greedy_groups(np.asarray(vectors(distinct), dtype=np.float32), similarity)
    by_question = {q: int(member_of[i]) for i, q in enumerate(distinct)}
    members: list[list[UnansweredQuestion]] = [[] for _ in range(count)]
    for record in records:
        members[by_question[record.question]].append(record)
    groups = []
    for rows in members:
        questions = Counter(r.question for r in rows)
        offered = [c for r in rows for c in r.candidates[:1] if c.confidence is not None]
        reasons = Counter(r.reason for r in rows)
        groups.append(
            Group(
                questions=[q for q, _ in questions.most_common()],
                count=len(rows),
                first_seen=min(r.created_at for r in rows),
                last_seen=max(r.created_at for r in rows),
                best_candidate=max(offered, key=lambda c: c.confidence or 0.0, default=None),
                reasons={reason: reasons.get(reason, 0) for reason in REASONS},
            )
        )
    groups.sort(key=lambda g: (-g.count, g.first_seen))
    return groups


def retain(records: RecordLog[UnansweredQuestion], days: float, max_records: int) -> int:
    """Drop the records older than `days`, then the oldest beyond `max_records`; returns how
    many went."""
    removed = records.delete_older_than(datetime.now(UTC) - timedelta(days=days))
    kept = sorted(r.created_at for r in records.records())
    if len(kept) > max_records:
        removed += records.delete_older_than(parse_time(kept[-max_records]))
    return removed


def ordered(groups: list[Group]) -> list[Group]:
    """Open groups first, each part biggest first (the sort is stable)."""
    return sorted(groups, key=lambda g: g.resolved)
