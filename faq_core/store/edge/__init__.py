"""The embedded backend: Qdrant Edge in this process, its files under `FAQ_STORE_PATH`.

    <store_path>/<collection>/LIVE                   the live version's name
    <store_path>/<collection>/versions/<version>/    one Edge shard per version (store.py)
    <store_path>/<collection>.<log>.jsonl            record logs, such as the feedback (records.py)

Only one process can open a shard; upkeep that Edge does not do on its own (flushing its
write-ahead log after writes) is `EdgeStore.maintain`. Every write, to a shard or a record log,
first checks that the disk keeps FAQ_MIN_FREE_MB free (space.py).
"""

from __future__ import annotations

from pathlib import Path

from faq_core.errors import StorageFull
from faq_core.records import R
from faq_core.settings import Settings
from faq_core.store.backend import Backend, search_tuning
from faq_core.store.base import SearchTuning
from faq_core.store.edge.catalog import EdgeCatalog
from faq_core.store.edge.records import FileRecordLog
from faq_core.store.edge.space import DiskSpace
from faq_core.store.edge.store import EdgeStore

__all__ = ["EdgeBackend", "EdgeCatalog", "EdgeStore", "FileRecordLog"]


class EdgeBackend(Backend):
    kind = "embedded"

    def __init__(
        self,
        store_path: Path,
        collection: str,
        *,
        search: SearchTuning | None = None,
        min_free_bytes: int = 0,
    ) -> None:
        self.store_path = Path(store_path)
        self.collection = collection
        self.location = str(self.store_path.absolute())
        self.space = DiskSpace(self.store_path, min_free_bytes)
        self.catalog = EdgeCatalog(self.store_path, collection, search=search, space=self.space)

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeBackend:
        return cls(
            settings.store_path,
            settings.collection,
            search=search_tuning(settings),
            min_free_bytes=settings.min_free_mb * 2**20,
        )

    def record_log(self, name: str, record_type: type[R]) -> FileRecordLog[R]:
        path = self.store_path / f"{self.collection}.{name}.jsonl"
        return FileRecordLog(path, record_type, space=self.space)

    def free_bytes(self) -> int | None:
        return self.space.free_bytes()

    def write_refusal(self) -> StorageFull | None:
        return self.space.refusal()

    def check_writes(self) -> None:
        self.space.check()

    @property
    def writes_refused(self) -> int:
        return self.space.refused
