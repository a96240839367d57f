"""Export: the live collection version and the record logs beside it, as one stream
(faq_core.store.dump), read a page at a time so that memory stays flat at any size.

Read from a store open for reading, here or in the running service (GET /export): each page of
entries comes with the phrasings those entries have when the page is read, so a write that lands
while an export runs is either in it or not, never half in it. For a copy that misses no write,
export while nothing writes (the service stopped, or no client writing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from faq_core.errors import CollectionMissing
from faq_core.records import utc_now
from faq_core.settings import Settings
from faq_core.store.backend import Backend, open_backend
from faq_core.store.base import AnswerStore, CollectionLayout
from faq_core.store.dump import LOGS, Header, end_line, point_line, record_line

# Records written out at once.
RECORD_CHUNK = 512


def export_stream(backend: Backend, store: AnswerStore, header: Header) -> Iterator[bytes]:
    """The export of `store` (the live version of `backend`'s collection) and of `backend`'s
    record logs, in chunks of whole lines; `header` says whether vectors are included."""
    yield header.line()
    counts = {"entries": 0, "phrasings": 0, **dict.fromkeys(LOGS, 0)}
    for page in store.point_pages(with_vectors=header.vectors == "float32"):
        lines = [point_line(p, header) for p in page]
        entries = sum(1 for line in lines if line.startswith(b'{"kind":"entry"'))
        counts["entries"] += entries
        counts["phrasings"] += len(lines) - entries
        yield b"".join(lines)
    for name, record_type in LOGS.items():
        # Oldest first and ties by id: the same order from either backend's log.
        records = sorted(
            backend.record_log(name, record_type).records(), key=lambda r: (r.created_at, r.id)
        )
        counts[name] = len(records)
        for start in range(0, len(records), RECORD_CHUNK):
            yield b"".join(record_line(name, r) for r in records[start : start + RECORD_CHUNK])
    yield end_line(counts)


def header_for(backend: Backend, store: AnswerStore, *, vectors: bool) -> Header:
    """The header of an export of `store`: which servable built its vectors."""
    metadata = store.metadata() or {}
    return Header(
        backend.catalog.name,
        str(metadata.get("model_id")),
        int(metadata.get("dim", 0)),
        "float32" if vectors else "none",
        utc_now(),
    )


@contextmanager
def live_for_export(settings: Settings) -> Iterator[tuple[Backend, AnswerStore]]:
    """The configured backend and its live version, opened for reading whatever servable built
    it (an export needs none). CollectionMissing when there is nothing to export."""
    backend = open_backend(settings)
    try:
        live = backend.catalog.live()
        if live is None:
            raise CollectionMissing(
                f"collection {settings.collection!r} has no version in the {backend.kind} store "
                f"at {backend.location}: nothing to export"
            )
        store = backend.catalog.store(live)
        try:
            metadata = store.metadata() or {}
            layout = CollectionLayout(int(metadata.get("dim", 0)), str(metadata.get("model_id")))
            store.open(layout, create=False)
            store.ping()  # the embedded shard loads here: held by a service, it says so now
            yield backend, store
        finally:
            store.close()
    finally:
        backend.close()
