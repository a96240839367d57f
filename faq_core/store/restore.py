"""Restore: an export (faq_core.store.dump) into an empty store, on either backend.

The points go into a new collection version that nothing reads yet, the records into the logs,
and only then does the new version go live, as `faq-index` switches (atomically: a LIVE file
renamed, an alias changed). A restore killed while it writes the points leaves the store as it
was (the half-built version is never live, and is dropped by the next restore or index). One
killed while it writes the records has written part of them: a mark beside the collection (the
record log `restoring`) names the export, and running the same restore again resumes it: it
rebuilds the version, appends only the records not there yet (by their ids), and switches.
Anything else is refused until the mark is gone (`replace`), so a half-restored store is never
taken for an empty one.

Vectors are copied from the export when the servable that will serve made them; else (another
servable, or an export without vectors) every text is encoded again by `servable`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Literal

from faq_core.encoding import encode_entries
from faq_core.entries import FaqEntry
from faq_core.errors import StoreNotEmpty
from faq_core.records import RecordLog, new_record_id, utc_now
from faq_core.servable import Servable
from faq_core.settings import Settings
from faq_core.store.backend import Backend, layout_for
from faq_core.store.base import PHRASING_OF, PHRASING_TEXT, QUESTION, AnswerStore, StoredPoint
from faq_core.store.dump import LOGS, Header, Item, PointItem, RecordItem

log = logging.getLogger(__name__)

MARK_LOG = "restoring"
# Points written at once: one operation each, all or none.
POINT_BATCH = 256
RECORD_BATCH = 1024


@dataclass(frozen=True)
class RestoreMark:
    """A restore under way: the export it comes from (`export_digest`)."""

    kind: ClassVar[str] = "restore mark"

    export: str
    id: str = field(default_factory=new_record_id)
    created_at: str = field(default_factory=utc_now)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> RestoreMark:
        if not isinstance(obj, dict) or not all(
            isinstance(obj.get(k), str) for k in ("export", "id", "created_at")
        ):
            raise ValueError("expected an object with export, id and created_at")
        return cls(obj["export"], obj["id"], obj["created_at"])


def export_digest(header: Header) -> str:
    """Names one export: its header, which holds the time it was made."""
    return hashlib.sha256(header.line()).hexdigest()[:16]


@dataclass(frozen=True)
class RestoreSummary:
    collection: str
    store: str
    version: str
    model_id: str
    vectors: Literal["copied", "encoded"]
    entries: int
    phrasings: int
    records: dict[str, int]
    resumed: bool
    replaced: str | None  # the version that was live before, when one was
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def holdings(backend: Backend) -> dict[str, int]:
    """What the store holds that a restore would overwrite: the live version's entries and each
    record log's records, those it holds at all."""
    held: dict[str, int] = {}
    live = backend.catalog.live()
    if live is not None:
        store = backend.catalog.store(live)
        try:
            held["entries"] = store.count()
        finally:
            store.close()
    for name, record_type in LOGS.items():
        held[name] = len(backend.record_log(name, record_type).records())
    return {k: n for k, n in held.items() if n}


def restore(
    backend: Backend,
    header: Header,
    items: Iterable[Item],
    settings: Settings,
    *,
    servable: Servable | None = None,
    replace_held: bool = False,
) -> RestoreSummary:
    """Restore the export (`header`, then `items` as faq_core.store.dump reads them) into
    `backend`'s collection. With `servable`, every vector is encoded again by it; without, the
    export's vectors are written as they are (it must have them).

    StoreNotEmpty when the store holds anything, or a restore of another export was
    interrupted, unless `replace_held`: then its logs are cleared and the restored version
    replaces the live one.
    """
    if servable is None and header.vectors == "none":
        raise ValueError("an export without vectors is restored with a servable to encode them")
    started = time.perf_counter()
    digest = export_digest(header)
    marks = backend.record_log(MARK_LOG, RestoreMark)
    pending = [m.export for m in marks.records()]
    resumed = digest in pending and len(set(pending)) == 1
    if not resumed and not replace_held:
        held = holdings(backend)
        if pending and held:
            raise StoreNotEmpty(
                f"a restore of another export ({pending[-1]}) into {backend.location} was "
                "interrupted: run that restore again to finish it, or pass --replace to start "
                "over with this one"
            )
        if held:
            raise StoreNotEmpty(
                f"the {backend.kind} store at {backend.location} is not empty (collection "
                f"{backend.catalog.name!r} holds "
                + ", ".join(f"{n} {what}" for what, n in held.items())
                + "): restore into an empty store, or pass --replace to replace all of it"
            )
    if not resumed:
        marks.clear()
        marks.append(RestoreMark(digest))
        if replace_held:
            for name, record_type in LOGS.items():
                backend.record_log(name, record_type).clear()
    catalog = backend.catalog
    live = catalog.live()
    catalog.prune(keep={live} if live else set())  # a version an interrupted restore left
    model_id = servable.model_id if servable else header.model_id
    dim = servable.dim if servable else header.dim
    version = catalog.new_version()
    target = catalog.store(version)
    counts = {"entries": 0, "phrasings": 0}
    records = dict.fromkeys(LOGS, 0)
    try:
        try:
            target.open(layout_for(settings, dim=dim, model_id=model_id), create=True)
            batch: list[StoredPoint] = []
            complete = False
            logs = _Logs(backend)
            for item in items:
                if isinstance(item, PointItem):
                    counts["entries" if item.is_entry else "phrasings"] += 1
                    batch.append(item.point)
                    if len(batch) >= POINT_BATCH:
                        _write(target, batch, servable, settings)
                        batch = []
                    continue
                if not complete:  # the points are all there: the version is built first
                    _complete(target, batch, servable, settings)
                    complete = True
                logs.add(item)
            if not complete:
                _complete(target, batch, servable, settings)
            logs.flush()
            records.update(logs.written)
        except BaseException:
            target.drop()  # never live: the store is as it was, but for the records written
            raise
        catalog.switch(version)
    finally:
        target.close()
    # As faq-index does: the version live before stays until the next run drops it.
    catalog.prune(keep={v for v in (version, live) if v})
    marks.clear()
    summary = RestoreSummary(
        collection=catalog.name,
        store=f"{backend.kind} {backend.location}",
        version=version,
        model_id=model_id,
        vectors="encoded" if servable else "copied",
        entries=counts["entries"],
        phrasings=counts["phrasings"],
        records=records,
        resumed=resumed,
        replaced=live if replace_held else None,
        seconds=round(time.perf_counter() - started, 2),
    )
    log.info("restored %s", summary)
    return summary


def _complete(
    store: AnswerStore, rest: list[StoredPoint], servable: Servable | None, settings: Settings
) -> None:
    """The last points written, and the version's indexes built (HNSW, on Edge)."""
    _write(store, rest, servable, settings)
    store.optimize()
    log.info("the points are written")


def _write(
    store: AnswerStore, points: list[StoredPoint], servable: Servable | None, settings: Settings
) -> None:
    if not points:
        return
    if servable is not None:
        points = _encoded(points, servable, settings.encode_batch_size)
    store.write_points(points)
    log.info("wrote %d points", len(points))


def _encoded(points: Sequence[StoredPoint], servable: Servable, batch: int) -> list[StoredPoint]:
    """The points with their vectors encoded by `servable`; payloads kept as they are."""
    entries = [p for p in points if PHRASING_OF not in p.payload]
    phrasings = [p for p in points if PHRASING_OF in p.payload]
    encoded = encode_entries(servable, [FaqEntry.from_payload(p.payload) for p in entries], batch)
    texts = [p.payload[PHRASING_TEXT] for p in phrasings]
    vectors: Any = servable.encode(texts, batch_size=batch) if texts else []
    return [replace(p, vectors=e.vectors()) for p, e in zip(entries, encoded, strict=True)] + [
        replace(p, vectors={QUESTION: v.tolist()}) for p, v in zip(phrasings, vectors, strict=True)
    ]


class _Logs:
    """Appends the export's records to their logs in batches, each log's in order, leaving out
    those a log holds already (written before a restore was interrupted)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.written = dict.fromkeys(LOGS, 0)
        self._log: str | None = None
        self._held: set[str] = set()
        self._pending: list[Any] = []

    def add(self, item: RecordItem) -> None:
        if item.log != self._log:
            self.flush()
            self._log = item.log
            self._held = {r.id for r in self._records(item.log).records()}
        if item.record.id not in self._held:
            self._pending.append(item.record)
            if len(self._pending) >= RECORD_BATCH:
                self.flush()

    def flush(self) -> None:
        if self._log is None or not self._pending:
            return
        self._records(self._log).append_many(self._pending)
        self.written[self._log] += len(self._pending)
        log.info("wrote %d %s records", len(self._pending), self._log)
        self._pending = []

    def _records(self, name: str) -> RecordLog[Any]:
        return self.backend.record_log(name, LOGS[name])
