"""Record logs, one behavioural suite run on both backends: a JSON Lines file beside the embedded
store's collection, and a companion collection on the Qdrant server (qdrant-client's local mode,
on disk, standing in for the server). The feedback log is one of them."""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from faq_core.errors import DataFileError
from faq_core.feedback import FeedbackEvent
from faq_core.records import RecordLog
from faq_core.store import AnswerStore, Backend, CollectionLayout
from faq_core.store.edge import FileRecordLog
from faq_core.store.server import QdrantRecordLog
from tests.support.backends import BACKENDS, make_backend

LAYOUT = CollectionLayout(dim=4, model_id="test-model")


@pytest.fixture(params=BACKENDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def backend(kind: str, tmp_path: Path) -> Iterator[Backend]:
    backend = make_backend(kind, tmp_path, on_disk=True)
    yield backend
    backend.close()


@pytest.fixture
def store(backend: Backend) -> Iterator[AnswerStore]:
    """A version of the collection, so that the logs sit beside a real one."""
    store = backend.catalog.store("v1")
    store.open(LAYOUT, create=True)
    yield store
    store.close()


def event(question: str = "how do i reset my password?", **changes: object) -> FeedbackEvent:
    fields: dict[str, object] = {"answer_id": "entry-1", "helpful": True, "model_id": "m1"}
    return FeedbackEvent(question=question, **{**fields, **changes})  # type: ignore[arg-type]


def at(day: int, event_: FeedbackEvent) -> FeedbackEvent:
    """The event as if made on day `day` of January 2999 (later than any made now)."""
    return replace(event_, created_at=f"2999-01-{day:02d}T00:00:00.000001Z")


def test_the_logs_sit_beside_the_collection(
    backend: Backend, store: AnswerStore, tmp_path: Path
) -> None:
    log = backend.feedback_log
    other = backend.record_log("unanswered", FeedbackEvent)
    if backend.kind == "embedded":
        assert isinstance(log, FileRecordLog) and isinstance(other, FileRecordLog)
        assert log.path == tmp_path / "store" / "faq.feedback.jsonl"
        assert other.path == tmp_path / "store" / "faq.unanswered.jsonl"
    else:
        assert isinstance(log, QdrantRecordLog) and isinstance(other, QdrantRecordLog)
        assert (log.name, other.name) == ("faq_feedback", "faq_unanswered")


def test_records_come_back_in_order_with_every_field(backend: Backend, store: AnswerStore) -> None:
    log = backend.feedback_log
    assert log.records() == []
    first = event(comment="wrong product", conversation_id="chat-7")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first.created_at)
    # Later times set by hand: events made within the same microsecond have no order of their own.
    second = at(1, event("can i pay by invoice?", answer_id="entry-2", helpful=False))
    third = replace(at(1, event("can i pay by invoice?")), created_at="2999-01-01T00:00:00.000002Z")
    for item in (first, second, third):
        log.append(item)
    assert log.records() == [first, second, third]
    assert len({e.id for e in log.records()}) == 3


def test_logs_of_different_names_are_apart(backend: Backend, store: AnswerStore) -> None:
    feedback, other = backend.feedback_log, backend.record_log("unanswered", FeedbackEvent)
    feedback.append(kept := event())
    other.append(elsewhere := event("what is the capital of france?"))
    assert (feedback.records(), other.records()) == ([kept], [elsewhere])
    other.clear()
    assert (feedback.records(), other.records()) == ([kept], [])


def test_an_appended_record_is_durable(kind: str, tmp_path: Path) -> None:
    """What append wrote is there for a new process: a backend opened afresh."""
    first = make_backend(kind, tmp_path, on_disk=True)
    recorded = event(helpful=False, comment="ü: not ascii")
    first.feedback_log.append(recorded)
    first.close()  # the client too, as a process that ends
    again = make_backend(kind, tmp_path, on_disk=True)
    try:
        assert again.feedback_log.records() == [recorded]
    finally:
        again.close()


def test_feedback_outlives_a_rebuilt_collection(backend: Backend, store: AnswerStore) -> None:
    """Re-indexing for a new servable builds a new version and drops the old; the feedback stays."""
    recorded = event()
    backend.feedback_log.append(recorded)
    store.drop()
    store.open(CollectionLayout(dim=4, model_id="next-model"), create=True)
    assert backend.feedback_log.records() == [recorded]


def test_concurrent_appends_all_arrive_whole(backend: Backend, store: AnswerStore) -> None:
    log: RecordLog[FeedbackEvent] = backend.feedback_log
    written = [event(f"question number {i}", answer_id=f"entry-{i % 3}") for i in range(40)]
    threads = [
        threading.Thread(target=lambda part=part: [log.append(e) for e in part])
        for part in (written[i::4] for i in range(4))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e.id for e in log.records()) == sorted(e.id for e in written)


def test_retention_deletes_only_the_older_records(backend: Backend, store: AnswerStore) -> None:
    log = backend.feedback_log
    old, older, recent = at(2, event("old")), at(1, event("older")), at(20, event("recent"))
    for item in (older, old, recent):
        log.append(item)
    assert log.delete_older_than(datetime(2999, 1, 10, tzinfo=UTC)) == 2
    assert log.records() == [recent]
    assert log.delete_older_than(datetime(2999, 1, 10, tzinfo=UTC)) == 0
    log.append(later := at(21, event("after the retention run")))
    assert log.records() == [recent, later]
    log.clear()
    assert log.records() == []
    log.append(after := event("after clearing"))
    assert log.records() == [after]


# ---- the file backend's own edges ---------------------------------------------------------------


def file_log(tmp_path: Path) -> FileRecordLog[FeedbackEvent]:
    return FileRecordLog(tmp_path / "faq.feedback.jsonl", FeedbackEvent)


def test_a_line_cut_short_by_a_crash_is_dropped_not_glued_to_the_next(tmp_path: Path) -> None:
    log = file_log(tmp_path)
    kept = event()
    log.append(kept)
    with log.path.open("a") as handle:  # an append that crashed before its newline and fsync
        handle.write(json.dumps(event("never acknowledged").to_json())[:40])
    assert log.records() == [kept]  # a reader skips the unfinished line
    after = event("after the crash")
    log.append(after)
    assert log.records() == [kept, after]
    assert log.path.read_text().count("\n") == 2


def test_a_file_that_is_only_a_torn_line_starts_again(tmp_path: Path) -> None:
    log = file_log(tmp_path)
    log.path.write_text('{"id": "torn')
    recorded = event()
    log.append(recorded)
    assert log.records() == [recorded]


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    log = file_log(tmp_path)
    log.append(event())
    with log.path.open("a") as handle:
        handle.write('{"question": "q", "answer_id": "a", "helpful": "yes"}\n')
    with pytest.raises(DataFileError, match=r"faq\.feedback\.jsonl:2: not a feedback event: .*"):
        log.records()


def test_an_append_waiting_while_the_file_is_replaced_lands_in_the_new_file(
    tmp_path: Path,
) -> None:
    """Retention replaces the file under its lock. An append (another process's) that opened the
    file and waited for that lock must not write into the replaced file, where it would be lost.
    This test replaces the file itself, as `delete_older_than` does, while holding the lock."""
    log = file_log(tmp_path)
    log.append(at(1, event("old")))
    late = at(20, event("appended while the file was being replaced"))
    with log.path.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        appender = threading.Thread(target=file_log(tmp_path).append, args=(late,))
        appender.start()
        time.sleep(0.3)  # it opens the file and waits for the lock
        assert appender.is_alive()
        replacement = log.path.with_name("replacement")
        replacement.write_text("")
        os.replace(replacement, log.path)
    appender.join(timeout=10)
    assert log.records() == [late]
