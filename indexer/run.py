"""Index a data file: validate it whole, then encode and upsert in batches.

Re-running is cheap and creates nothing twice: ids come from the content, and entries already
stored unchanged are not encoded again. When the servable changed since the collection was built,
the collection is rebuilt, and the entries it holds that the file does not (added at runtime
through the API) are encoded again with the new model and kept.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from faq_core.encoding import encode_entries, entry_texts
from faq_core.entries import FaqEntry, read_entries
from faq_core.errors import ModelMismatch
from faq_core.servable import Servable, load_servable
from faq_core.settings import Settings
from faq_core.store import AnswerStore, CollectionLayout, connect_store, layout_for

log = logging.getLogger(__name__)

UPSERT_BATCH = 256


@dataclass(frozen=True)
class IndexSummary:
    data: str
    collection: str
    model_id: str
    lines: int
    unique_entries: int
    encoded: int
    encoded_texts: int
    unchanged: int
    carried_over: int
    points_before: int
    points_after: int
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


def _open_for(store: AnswerStore, layout: CollectionLayout) -> list[FaqEntry]:
    """Open (or create) the collection for this servable; returns the entries to carry over
    when a collection built by another servable had to be rebuilt."""
    try:
        store.open(layout, create=True)
        return []
    except ModelMismatch as exc:
        log.warning("%s; rebuilding it and keeping the entries it holds", exc)
        kept = list(store.entries())
        store.drop()
        store.open(layout, create=True)
        return kept


def _differs(stored: FaqEntry | None, entry: FaqEntry) -> bool:
    return stored is None or stored.payload() != entry.payload()


def run_index(
    data: Path, settings: Settings, servable: Servable | None = None, *, progress: bool = True
) -> IndexSummary:
    """Upsert every entry of `data`. The whole file is validated before the store is touched,
    so a bad line writes nothing."""
    entries = read_entries(Path(data), require_question=False)
    from_file = unique_by_id(entries)
    servable = servable or load_servable(settings.model_path, settings.device, settings.quantize)
    store = connect_store(settings)
    layout = layout_for(settings, dim=servable.dim, model_id=servable.model_id)
    started = time.perf_counter()
    try:
        carried = _open_for(store, layout)
        file_ids = {e.entry_id for e in from_file}
        carried = [e for e in carried if e.entry_id not in file_ids]
        todo = from_file + carried
        before = store.count()
        encoded = encoded_texts = unchanged = 0
        with tqdm(total=len(todo), desc="indexing", unit="entry", disable=not progress) as bar:
            for start in range(0, len(todo), UPSERT_BATCH):
                batch = todo[start : start + UPSERT_BATCH]
                stored = store.get_many([e.entry_id for e in batch])
                changed = [e for e in batch if _differs(stored.get(e.entry_id), e)]
                store.upsert(encode_entries(servable, changed, settings.encode_batch_size))
                encoded += len(changed)
                encoded_texts += len(entry_texts(changed))
                unchanged += len(batch) - len(changed)
                bar.update(len(batch))
        store.optimize()
        after = store.count()
    finally:
        store.close()
    return IndexSummary(
        data=str(data),
        collection=settings.collection,
        model_id=servable.model_id,
        lines=len(entries),
        unique_entries=len(from_file),
        encoded=encoded,
        encoded_texts=encoded_texts,
        unchanged=unchanged,
        carried_over=len(carried),
        points_before=before,
        points_after=after,
        seconds=round(time.perf_counter() - started, 2),
    )
