"""Index a data file into a new version of the collection, then switch to it atomically.

The whole file is validated before anything is written. The new version holds the file's
entries and the entries added at runtime (through the API) that the live version holds; it goes
live only once complete, so the service answers from the old version until then. The switch is
the point of no return: a run that fails or is interrupted before it leaves the live version as
it was and drops the new one; after it, the new version is never dropped. Re-running is cheap:
when the servable did not change, entries the live version already holds unchanged are copied
with their vectors, not encoded again. The previous version is kept (the service may still be
reading it until it follows the switch); older ones are dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from faq_core.encoding import encode_entries, encoder_for, entry_texts
from faq_core.entries import FaqEntry
from faq_core.errors import StoreUnavailable
from faq_core.progress import progress_bar
from faq_core.servable import Servable, serving_model
from faq_core.settings import Settings
from faq_core.sources import Location, read_entries
from faq_core.store import (
    AnswerStore,
    Catalog,
    CollectionLayout,
    EncodedEntry,
    layout_for,
    open_backend,
)
from faq_core.store.carry import carry_runtime_entries

log = logging.getLogger(__name__)

UPSERT_BATCH = 256


@dataclass(frozen=True)
class IndexSummary:
    data: str
    collection: str
    version: str
    previous_version: str | None
    model_id: str
    lines: int
    unique_entries: int
    encoded: int
    encoded_texts: int
    unchanged: int
    carried_over: int
    carried_phrasings: int
    points_before: int | None
    points_after: int
    dropped_versions: list[str]
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        per_s = 1 / self.seconds if self.seconds else 0.0
        return {
            **asdict(self),
            "entries_per_second": round(self.encoded * per_s, 1),
            "texts_per_second": round(self.encoded_texts * per_s, 1),
        }


def unique_by_id(entries: list[FaqEntry]) -> list[FaqEntry]:
    """One entry per id (the last one wins), so a repeated line costs no extra encoding."""
    return list({entry.entry_id: entry for entry in entries}.values())


def _readable_live(catalog: Catalog) -> tuple[str | None, AnswerStore | None, int | None]:
    """The live version and its store when this process can read it. The embedded store is
    held by a running service: then everything is encoded, and the service carries its runtime
    entries over itself when it follows the switch."""
    live = catalog.live()
    if live is None:
        return None, None, None
    store = catalog.store(live)
    try:
        count = store.count()
    except StoreUnavailable as exc:
        log.warning("the live version cannot be read (%s): encoding every entry", exc)
        store.close()
        return live, None, None
    return live, store, count


@dataclass
class _Counts:
    encoded: int = 0
    encoded_texts: int = 0
    unchanged: int = 0


def _fill(
    target: AnswerStore,
    entries: Sequence[FaqEntry],
    reusable: AnswerStore | None,
    servable: Servable,
    settings: Settings,
    progress: bool,
) -> _Counts:
    """Upsert `entries` into the new version: copied from `reusable` (built by the same
    servable) when it holds them unchanged, else encoded."""
    counts = _Counts()
    with progress_bar(
        total=len(entries), desc="indexing", unit="entry", disable=not progress
    ) as bar:
        for start in range(0, len(entries), UPSERT_BATCH):
            batch = entries[start : start + UPSERT_BATCH]
            stored = reusable.get_encoded([e.entry_id for e in batch]) if reusable else {}
            copied: list[EncodedEntry] = []
            changed: list[FaqEntry] = []
            for entry in batch:
                old = stored.get(entry.entry_id)
                if old is not None and _same(old.entry, entry):
                    copied.append(old)
                else:
                    changed.append(entry)
            target.upsert(copied + encode_entries(servable, changed, settings.encode_batch_size))
            counts.encoded += len(changed)
            counts.encoded_texts += len(entry_texts(changed, servable.answer_encoding))
            counts.unchanged += len(copied)
            bar.update(len(batch))
    return counts


def _same(stored: FaqEntry, entry: FaqEntry) -> bool:
    """The stored entry is the file's entry: the same payload and the same phrasings given with
    it (the stored one also has those added at runtime, which the new version keeps)."""
    own = [p for p in stored.phrasings if not p.added]
    return stored.payload() == entry.payload() and own == list(entry.phrasings)


class _Carry:
    """Carries the live version's runtime entries (those not in the file) and the phrasings
    added to any entry into the new one: their vectors copied when the same servable built both,
    else encoded again."""

    def __init__(
        self,
        source: AnswerStore | None,
        servable: Servable,
        settings: Settings,
        same_model: bool,
        from_file: Sequence[FaqEntry],
    ) -> None:
        self.source = source
        self.reusable = source if same_model else None
        self._encode = None if same_model else encoder_for(servable, settings.encode_batch_size)
        self._skip = frozenset(e.entry_id for e in from_file)
        self.carried = 0
        self.carried_phrasings = 0

    def into(self, target: AnswerStore) -> None:
        if self.source is not None:
            carried = carry_runtime_entries(self.source, target, self._encode, skip=self._skip)
            self.carried += carried.entries
            self.carried_phrasings += carried.phrasings


def _build(
    target: AnswerStore,
    layout: CollectionLayout,
    from_file: Sequence[FaqEntry],
    carry: _Carry,
    servable: Servable,
    settings: Settings,
    progress: bool,
) -> _Counts:
    """Phase 1: the new version, complete, beside the live one. Nothing reads it yet, so any
    failure or interrupt drops it: the live version is untouched."""
    try:
        target.open(layout, create=True)
        counts = _fill(target, from_file, carry.reusable, servable, settings, progress)
        carry.into(target)
        target.optimize()
    except BaseException:
        target.drop()
        raise
    return counts


def _go_live(catalog: Catalog, version: str, target: AnswerStore) -> None:
    """Phase 2, the point of no return: make `version` the live one.

    A switch that raised may still have happened (a server that applied the alias change but
    whose answer was lost; a rename whose directory sync failed), so the new version is dropped
    only when the catalog says another version is live. When it cannot tell, the new version
    is kept: a later run's prune drops it unless it is live.
    """
    try:
        catalog.switch(version)
    except BaseException:
        try:
            went_live = catalog.live() == version
        except Exception:
            went_live = True  # unknown: keeping it is safe, dropping it may not be
        if not went_live:
            target.drop()
        raise


def _settle(target: AnswerStore, carry: _Carry, previous: str | None) -> int:
    """Phase 3: the new version is live. Carries the runtime entries added to the previous one
    between the first carry and the switch, and counts the entries. A failure here never drops
    the new version (it is what the service reads now): it is logged and raised, and the
    previous version, which still holds whatever was not carried, is kept."""
    try:
        carry.into(target)
        return target.count()
    except BaseException:
        log.error(
            "version %s is live, but the work after the switch did not finish; the previous "
            "version %s is kept (a running service carries its runtime entries over when it "
            "follows the switch)",
            target.name,
            previous,
        )
        raise


def run_index(
    data: Location, settings: Settings, servable: Servable | None = None, *, progress: bool = True
) -> IndexSummary:
    """Build a new version of the collection from `data` and make it live.

    Four phases: build, switch, settle, prune. The switch is the point of no return: a failure
    or an interrupt (Ctrl-C) before it drops the new version and leaves the live one as it was;
    after it the new version is live and is never dropped, and the previous one is kept.
    An empty file makes an empty version: a FAQ may be filled through the API alone.
    """
    entries = read_entries(data, require_question=False, allow_empty=True)
    if not entries:
        log.warning("%s holds no entries: the new version holds only those added at runtime", data)
    from_file = unique_by_id(entries)
    servable = servable or serving_model(settings)
    layout = layout_for(settings, dim=servable.dim, model_id=servable.model_id)
    started = time.perf_counter()
    backend = open_backend(settings)
    catalog = backend.catalog
    try:
        live, source, points_before = _readable_live(catalog)
        try:
            same_model = source is not None and (source.metadata() or {}).get("model_id") == (
                servable.model_id
            )
            if source is not None and not same_model:
                log.warning("the live version was built by another servable: encoding every entry")
            carry = _Carry(source, servable, settings, same_model, from_file)
            version = catalog.new_version()
            target = catalog.store(version)
            try:
                counts = _build(target, layout, from_file, carry, servable, settings, progress)
                _go_live(catalog, version, target)
                points_after = _settle(target, carry, live)
            finally:
                target.close()
        finally:
            if source is not None:
                source.close()
        # Phase 4. The previous version stays: the service may read it until it follows.
        dropped = catalog.prune(keep={v for v in (version, live) if v is not None})
    finally:
        backend.close()
    return IndexSummary(
        data=str(data),
        collection=settings.collection,
        version=version,
        previous_version=live,
        model_id=servable.model_id,
        lines=len(entries),
        unique_entries=len(from_file),
        encoded=counts.encoded,
        encoded_texts=counts.encoded_texts,
        unchanged=counts.unchanged,
        carried_over=carry.carried,
        carried_phrasings=carry.carried_phrasings,
        points_before=points_before,
        points_after=points_after,
        dropped_versions=dropped,
        seconds=round(time.perf_counter() - started, 2),
    )
