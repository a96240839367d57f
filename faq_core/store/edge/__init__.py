"""The embedded backend: Qdrant Edge in this process, its files under `FAQ_STORE_PATH`.

    <store_path>/<collection>/LIVE                   the live version's name
    <store_path>/<collection>/versions/<version>/    one Edge shard per version (store.py)
    <store_path>/<collection>.<log>.jsonl            record logs, such as the feedback (records.py)

Only one process can open a shard; upkeep that Edge does not do on its own (flushing its
write-ahead log after writes) is `EdgeStore.maintain`.
"""

from __future__ import annotations

from pathlib import Path

from faq_core.records import R
from faq_core.settings import Settings
from faq_core.store.backend import Backend, search_tuning
from faq_core.store.base import SearchTuning
from faq_core.store.edge.catalog import EdgeCatalog
from faq_core.store.edge.records import FileRecordLog
from faq_core.store.edge.store import EdgeStore

__all__ = ["EdgeBackend", "EdgeCatalog", "EdgeStore", "FileRecordLog"]


class EdgeBackend(Backend):
    kind = "embedded"

    def __init__(
        self, store_path: Path, collection: str, *, search: SearchTuning | None = None
    ) -> None:
        self.store_path = Path(store_path)
        self.collection = collection
        self.location = str(self.store_path.absolute())
        self.catalog = EdgeCatalog(self.store_path, collection, search=search)

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeBackend:
        return cls(settings.store_path, settings.collection, search=search_tuning(settings))

    def record_log(self, name: str, record_type: type[R]) -> FileRecordLog[R]:
        return FileRecordLog(self.store_path / f"{self.collection}.{name}.jsonl", record_type)
