"""The feedback log, one behavioural suite run on both backends: a JSON Lines file beside the
embedded store's collection, and a companion collection on the Qdrant server (qdrant-client's local
mode, on disk, standing in for the server)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from faq_core.errors import DataFileError
from faq_core.feedback import (
    FeedbackEvent,
    FeedbackLog,
    FileFeedbackLog,
    feedback_log_for,
)
from faq_core.feedback_server import QdrantFeedbackLog
from faq_core.settings import Settings
from faq_core.store.base import AnswerStore, CollectionLayout
from faq_core.store.edge import EdgeStore
from faq_core.store.server import ServerStore
from tests.conftest import catalog_of

LAYOUT = CollectionLayout(dim=4, model_id="test-model")


@dataclass
class Backend:
    """Makes the store, and a store reopened from what the first one left durable."""

    kind: str
    root: Path

    def open(self) -> AnswerStore:
        if self.kind == "edge":
            return EdgeStore(self.root / "store", "faq")
        return ServerStore(QdrantClient(path=str(self.root / "qdrant")), "faq")


@pytest.fixture(params=["edge", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return Backend(request.param, tmp_path)


@pytest.fixture
def store(backend: Backend) -> Iterator[AnswerStore]:
    store = backend.open()
    store.open(LAYOUT, create=True)
    yield store
    store.close()


def event(question: str = "how do i reset my password?", **changes: object) -> FeedbackEvent:
    fields: dict[str, object] = {"answer_id": "entry-1", "helpful": True, "model_id": "m1"}
    return FeedbackEvent(question=question, **{**fields, **changes})  # type: ignore[arg-type]


def test_the_log_sits_beside_the_collection(store: AnswerStore, tmp_path: Path) -> None:
    log = feedback_log_for(catalog_of(store), Settings())
    if isinstance(store, EdgeStore):
        assert isinstance(log, FileFeedbackLog)
        assert log.path == tmp_path / "store" / "faq.feedback.jsonl"
    else:
        assert isinstance(log, QdrantFeedbackLog)
        assert log.name == "faq_feedback"


def test_events_come_back_in_order_with_every_field(store: AnswerStore) -> None:
    log = feedback_log_for(catalog_of(store), Settings())
    assert log.events() == []
    first = event(comment="wrong product", conversation_id="chat-7")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first.created_at)
    # Later times set by hand: events made within the same microsecond have no order of their own.
    second = event("can i pay by invoice?", answer_id="entry-2", helpful=False)
    second = replace(second, created_at="2999-01-01T00:00:00.000001Z")
    third = replace(event("can i pay by invoice?"), created_at="2999-01-01T00:00:00.000002Z")
    for item in (first, second, third):
        log.append(item)
    assert log.events() == [first, second, third]
    assert len({e.id for e in log.events()}) == 3


def test_an_appended_event_is_durable(backend: Backend) -> None:
    """What append wrote is there for a new process: a store and log opened afresh."""
    store = backend.open()
    store.open(LAYOUT, create=True)
    recorded = event(helpful=False, comment="ü: not ascii")
    catalog = catalog_of(store)
    feedback_log_for(catalog, Settings()).append(recorded)
    store.close()
    catalog.close()  # the client too, as a process that ends
    reopened = backend.open()
    try:
        assert feedback_log_for(catalog_of(reopened), Settings()).events() == [recorded]
    finally:
        reopened.close()


def test_feedback_outlives_a_rebuilt_collection(store: AnswerStore) -> None:
    """Re-indexing for a new servable drops and rebuilds the collection; the feedback stays."""
    log = feedback_log_for(catalog_of(store), Settings())
    recorded = event()
    log.append(recorded)
    store.drop()
    store.open(CollectionLayout(dim=4, model_id="next-model"), create=True)
    assert feedback_log_for(catalog_of(store), Settings()).events() == [recorded]


def test_concurrent_appends_all_arrive_whole(store: AnswerStore) -> None:
    log: FeedbackLog = feedback_log_for(catalog_of(store), Settings())
    written = [event(f"question number {i}", answer_id=f"entry-{i % 3}") for i in range(40)]
    threads = [
        threading.Thread(target=lambda part=part: [log.append(e) for e in part])
        for part in (written[i::4] for i in range(4))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(e.id for e in log.events()) == sorted(e.id for e in written)


# ---- the file backend's own edges ---------------------------------------------------------------


def test_a_line_cut_short_by_a_crash_is_dropped_not_glued_to_the_next(tmp_path: Path) -> None:
    log = FileFeedbackLog(tmp_path / "faq.feedback.jsonl")
    kept = event()
    log.append(kept)
    with log.path.open("a") as handle:  # an append that crashed before its newline and fsync
        handle.write(json.dumps(event("never acknowledged").to_json())[:40])
    assert log.events() == [kept]  # a reader skips the unfinished line
    after = event("after the crash")
    log.append(after)
    assert log.events() == [kept, after]
    assert log.path.read_text().count("\n") == 2


def test_a_file_that_is_only_a_torn_line_starts_again(tmp_path: Path) -> None:
    log = FileFeedbackLog(tmp_path / "faq.feedback.jsonl")
    log.path.write_text('{"id": "torn')
    recorded = event()
    log.append(recorded)
    assert log.events() == [recorded]


def test_a_bad_line_names_file_and_line(tmp_path: Path) -> None:
    log = FileFeedbackLog(tmp_path / "faq.feedback.jsonl")
    log.append(event())
    with log.path.open("a") as handle:
        handle.write('{"question": "q", "answer_id": "a", "helpful": "yes"}\n')
    with pytest.raises(DataFileError, match=r"faq\.feedback\.jsonl:2: not a feedback event: .*"):
        log.events()
