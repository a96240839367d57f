"""The embedded store refuses writes before they reach Edge while its disk is short of space,
and keeps serving reads. The filesystem's real free space is read here; a margin larger than it
stands for a full disk (tests/service/test_disk_full.py fills a real one)."""

from __future__ import annotations

import errno
import re
from pathlib import Path

import numpy as np
import pytest

from faq_core.entries import FaqEntry
from faq_core.errors import StorageFull
from faq_core.feedback import FeedbackEvent
from faq_core.store import CollectionLayout, EncodedEntry
from faq_core.store.edge import EdgeBackend
from faq_core.store.edge.errors import translated
from faq_core.store.edge.space import free_bytes
from tests.support.backends import make_backend

DIM = 8
LAYOUT = CollectionLayout(dim=DIM, model_id="test-model")


def entries(n: int, start: int = 0) -> list[EncodedEntry]:
    vectors = np.random.default_rng(start).standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        EncodedEntry(FaqEntry(answer=f"answer {start + i}", id=f"e{start + i}"), vector, None)
        for i, vector in enumerate(vectors)
    ]


def test_a_full_disk_refuses_writes_to_the_store_and_its_logs_and_serves_reads(
    tmp_path: Path,
) -> None:
    roomy = EdgeBackend(tmp_path / "store", "faq")
    version = roomy.catalog.new_version()
    store = roomy.catalog.store(version)
    store.open(LAYOUT, create=True)
    stored = entries(5)
    store.upsert(stored)
    roomy.catalog.switch(version)
    store.close()

    # More kept free than the disk has: every write must be refused.
    margin = free_bytes(tmp_path) + 2**40
    full = EdgeBackend(tmp_path / "store", "faq", min_free_bytes=margin)
    assert full.write_refusal() is not None and full.writes_refused == 0
    _, store = full.catalog.open_live(LAYOUT)
    try:
        message = rf"disk full: the filesystem holding {re.escape(str(tmp_path / 'store'))} "
        message += r"has [\d.]+ MB free, less than the \d+ MB kept free \(FAQ_MIN_FREE_MB\)"
        with pytest.raises(StorageFull, match=message):
            store.upsert(entries(1, start=100))
        with pytest.raises(StorageFull):
            store.delete("e1")
        with pytest.raises(StorageFull):
            full.feedback_log.append(FeedbackEvent(question="q?", answer_id="e1", helpful=True))
        with pytest.raises(StorageFull):
            full.check_writes()
        assert full.writes_refused == 4
        # Nothing reached the store or the log; reads go on.
        assert store.count() == 5
        assert store.get("e1") is not None
        assert [hit.entry.entry_id for hit in store.search(stored[2].answer_vector, 1)] == ["e2"]
        assert full.feedback_log.records() == []
        assert not (tmp_path / "store" / "faq.feedback.jsonl").exists()
        # A new version (faq-index) is refused before Edge creates anything.
        with pytest.raises(StorageFull):
            full.catalog.store("v-next").open(LAYOUT, create=True)
        assert full.catalog.versions() == [version]
    finally:
        store.close()


def test_writes_are_taken_again_once_there_is_room(tmp_path: Path) -> None:
    backend = EdgeBackend(tmp_path / "store", "faq", min_free_bytes=free_bytes(tmp_path) + 2**40)
    store = backend.catalog.store("v1")
    with pytest.raises(StorageFull):
        store.open(LAYOUT, create=True)
    # Each write checks anew, nothing is latched: room again (the margin lowered here, as
    # freed space would be; test_disk_full.py frees a real disk) and writes are taken.
    backend.space.min_free_bytes = 0
    store.open(LAYOUT, create=True)
    assert store.upsert(entries(2)) == ["e0", "e1"]
    backend.feedback_log.append(FeedbackEvent(question="q?", answer_id="e1", helpful=True))
    assert backend.write_refusal() is None and backend.writes_refused == 1
    store.close()


def test_a_write_the_filesystem_refuses_is_storage_full_too(tmp_path: Path) -> None:
    """Past the margin (another process took the space meanwhile): ENOSPC from our own files or
    from Edge is StorageFull, not a store failure."""
    refused = r"a write failed: no space left on device"
    with pytest.raises(StorageFull, match=refused), translated(tmp_path):
        raise OSError(errno.ENOSPC, "No space left on device")
    edge_says = "Service runtime error: No space left on device (os error 28)"
    with pytest.raises(StorageFull), translated(tmp_path):
        raise Exception(edge_says)


def test_a_server_has_no_disk_of_ours_to_watch(tmp_path: Path) -> None:
    server = make_backend("server", tmp_path)
    assert (server.free_bytes(), server.write_refusal(), server.writes_refused) == (None, None, 0)
    server.check_writes()  # never refuses: the server reports its own errors
