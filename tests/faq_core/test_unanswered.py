"""The unanswered log's records, grouping with the real model's embeddings, and retention, on
both store backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from faq_core.records import utc_now
from faq_core.servable import Servable
from faq_core.unanswered import (
    UNANSWERED_LOG,
    Candidate,
    UnansweredQuestion,
    greedy_groups,
    group,
    ordered,
    pack_vector,
    question_vectors,
    retain,
    select,
    unpack_vector,
)
from tests.support.backends import BACKENDS, make_backend


def _at(days_ago: float) -> str:
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _record(question: str, **fields: object) -> UnansweredQuestion:
    return UnansweredQuestion(question=question, reason="no_match", **fields)  # type: ignore[arg-type]


def test_a_record_round_trips_through_json_and_refuses_what_it_cannot_be() -> None:
    record = UnansweredQuestion(
        question="do you ship to iceland?",
        reason="ambiguous",
        candidates=(Candidate("a", 0.4), Candidate("b", 0.35)),
        source="shop",
        candidate_source="shop",
        model_id="m",
        vector=pack_vector(np.array([0.6, 0.8])),
    )
    assert UnansweredQuestion.from_json(record.to_json()) == record
    with pytest.raises(ValueError, match="reason"):
        UnansweredQuestion.from_json({**record.to_json(), "reason": "bored"})
    with pytest.raises(ValueError, match="question"):
        UnansweredQuestion.from_json({**record.to_json(), "question": ""})
    with pytest.raises(ValueError, match="candidates"):
        UnansweredQuestion.from_json({**record.to_json(), "candidates": ["a"]})


def test_a_vector_is_kept_as_float16() -> None:
    vector = np.random.default_rng(0).normal(size=384).astype(np.float32)
    vector /= np.linalg.norm(vector)
    again = unpack_vector(pack_vector(vector))
    np.testing.assert_allclose(again, vector, atol=1e-3)
    assert len(pack_vector(vector)) < 1100


def test_paraphrases_are_grouped_and_other_questions_are_not(servable: Servable) -> None:
    asked = [
        "what is the capital of france?",
        "tell me a joke",
        "what's the capital of france",
        "what is the capital of france?",
        "do you ship to iceland?",
        "can you tell me a joke",
        "capital of france?",
    ]
    records = [
        _record(q, created_at=_at(len(asked) - i), candidates=(Candidate(f"e{i}", i / 10),))
        for i, q in enumerate(asked)
    ]
    groups = group(records, servable.encode)
    assert [g.questions for g in groups] == [
        [
            "what is the capital of france?",
            "what's the capital of france",
            "capital of france?",
        ],
        ["tell me a joke", "can you tell me a joke"],
        ["do you ship to iceland?"],
    ]
    france = groups[0]
    assert france.count == 4
    assert france.first_seen == records[0].created_at
    assert france.last_seen == records[-1].created_at
    assert france.best_candidate == Candidate("e6", 0.6)  # the most confident one offered
    assert france.reasons == {"no_match": 4, "ambiguous": 0, "unhelpful": 0}


def _one_by_one(matrix: np.ndarray, similarity: float) -> list[int]:
    """The grouping rule taken literally, a row at a time: the reference for the blocked one."""
    leaders: list[int] = []
    member_of = []
    for i, row in enumerate(matrix):
        close = matrix[leaders] @ row if leaders else np.zeros(0)
        if len(close) and close.max() >= similarity:
            member_of.append(int(np.argmax(close)))
        else:
            member_of.append(len(leaders))
            leaders.append(i)
    return member_of


@pytest.mark.parametrize("similarity", [0.5, 0.7, 0.8])
def test_blocked_grouping_decides_as_one_question_at_a_time(similarity: float) -> None:
    """Blocks of 7 rows over 300 (leaders found inside a block, and in blocks before it),
    clustered vectors with exact duplicates of one question, at several similarity levels."""
    rng = np.random.default_rng(3)
    topics = rng.normal(size=(40, 32))
    matrix = topics[rng.integers(0, 40, 300)] + 0.6 * rng.normal(size=(300, 32))
    matrix[150:160] = matrix[10]  # ties between a leader and its duplicates
    matrix = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    expected = _one_by_one(matrix, similarity)
    member_of, count = greedy_groups(matrix, similarity, block=7)
    assert member_of.tolist() == expected
    assert count == max(expected) + 1
    assert 1 < count < len(matrix)  # the data has groups, and not only singletons


def test_resolved_groups_come_after_the_open_ones(servable: Servable) -> None:
    records = [_record("what is the capital of france?")] * 3 + [_record("tell me a joke")]
    groups = group(records, servable.encode)
    groups[0].resolved = True
    assert [g.questions[0] for g in ordered(groups)] == [
        "tell me a joke",
        "what is the capital of france?",
    ]


def test_records_keep_the_vectors_of_the_servable_that_asked() -> None:
    v = pack_vector(np.array([1.0, 0.0]))
    records = [
        _record("a", model_id="m1", vector=v),
        _record("b", model_id="m2", vector=v),  # another servable's: not comparable
        _record("c", model_id="m1"),  # from feedback: no vector
    ]
    known, missing = question_vectors(records, "m1")
    assert set(known) == {"a"}
    assert missing == ["b", "c"]


def test_select_by_time_and_source() -> None:
    old = _record("old", created_at=_at(3), source="shop")
    new = _record("new", created_at=_at(0.1), candidate_source="bank")
    filtered = _record("filtered", created_at=_at(0.1), source="shop", candidate_source="bank")
    since = datetime.now(UTC) - timedelta(days=1)
    assert select([old, new, filtered], since, None) == [new, filtered]
    # The filter it was asked with counts first; without one, its best candidate's source.
    assert select([old, new, filtered], None, "shop") == [old, filtered]
    assert select([old, new, filtered], None, "bank") == [new]


@pytest.mark.parametrize("kind", BACKENDS)
def test_retention_drops_old_records_then_the_oldest_beyond_the_bound(
    kind: str, tmp_path: Path
) -> None:
    backend = make_backend(kind, tmp_path)
    try:
        log = backend.record_log(UNANSWERED_LOG, UnansweredQuestion)
        for days in (40, 31, 5, 4, 3, 2, 1):
            log.append(_record(f"asked {days} days ago", created_at=_at(days)))
        log.append(_record("asked now", created_at=utc_now()))
        assert retain(log, days=30, max_records=4) == 4
        assert [r.question for r in log.records()] == [
            "asked 3 days ago",
            "asked 2 days ago",
            "asked 1 days ago",
            "asked now",
        ]
        log.clear()
        assert log.records() == []
    finally:
        backend.close()
