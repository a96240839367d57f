"""Records written off the request path: never blocking, bounded, surviving a failing log."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from faq_core.records import utc_now
from faq_core.store.edge import FileRecordLog
from faq_core.unanswered import UnansweredQuestion
from service.record_writer import RecordWriter


def _record(i: int) -> UnansweredQuestion:
    return UnansweredQuestion(question=f"question {i}", reason="no_match", created_at=utc_now())


def _writer(
    log: FileRecordLog[UnansweredQuestion], counts: Counter[str], **kwargs: object
) -> RecordWriter[UnansweredQuestion]:
    return RecordWriter(
        log,
        on_written=lambda n: counts.update(written=n),
        on_dropped=lambda n: counts.update(dropped=n),
        **kwargs,  # type: ignore[arg-type]
    )


def test_offered_records_are_appended_in_order(tmp_path: Path) -> None:
    log = FileRecordLog(tmp_path / "faq.unanswered.jsonl", UnansweredQuestion)
    counts: Counter[str] = Counter()
    writer = _writer(log, counts, capacity=100)
    writer.start()
    try:
        for i in range(50):
            assert writer.offer(_record(i))
        assert writer.wait_idle(10)
        assert [r.question for r in log.records()] == [f"question {i}" for i in range(50)]
        assert counts == Counter(written=50)
    finally:
        writer.stop()


def test_a_full_queue_drops_at_once_and_counts(tmp_path: Path) -> None:
    log = FileRecordLog(tmp_path / "faq.unanswered.jsonl", UnansweredQuestion)
    counts: Counter[str] = Counter()
    writer = _writer(log, counts, capacity=3)  # not started: nothing drains the queue
    started = time.perf_counter()
    accepted = [writer.offer(_record(i)) for i in range(5)]
    assert time.perf_counter() - started < 0.5
    assert accepted == [True, True, True, False, False]
    assert counts == Counter(dropped=2)
    writer.start()
    assert writer.wait_idle(10)
    writer.stop()
    assert len(log.records()) == 3


def test_a_failing_log_costs_its_records_and_the_writer_goes_on(tmp_path: Path) -> None:
    blocked = tmp_path / "store"
    blocked.write_text("a file where the store directory should be")
    log = FileRecordLog(blocked / "faq.unanswered.jsonl", UnansweredQuestion)
    counts: Counter[str] = Counter()
    writer = _writer(log, counts, capacity=10)
    writer.start()
    try:
        assert writer.offer(_record(1))
        assert writer.wait_idle(10)
        assert counts == Counter(dropped=1)
        blocked.unlink()  # the directory can be made now
        assert writer.offer(_record(2))
        assert writer.wait_idle(10)
        assert counts == Counter(dropped=1, written=1)
        assert [r.question for r in log.records()] == ["question 2"]
    finally:
        writer.stop()


def test_upkeep_runs_at_start_and_after_enough_writes(tmp_path: Path) -> None:
    log = FileRecordLog(tmp_path / "faq.unanswered.jsonl", UnansweredQuestion)
    counts: Counter[str] = Counter()
    upkeeps: list[int] = []
    writer = _writer(
        log,
        counts,
        capacity=10,
        upkeep=lambda: upkeeps.append(len(log.records())),
        upkeep_after=3,
    )
    writer.start()
    try:
        for i in range(3):
            writer.offer(_record(i))
            assert writer.wait_idle(10)  # one append each
        deadline = time.monotonic() + 5
        while len(upkeeps) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert upkeeps == [0, 3]
    finally:
        writer.stop()
