"""Record logs on a Qdrant server: one companion collection per log, `<collection>_<name>`, of
payload-only points (no vectors: the server and qdrant-client's local mode both accept an empty
vectors config), written with `wait=True`, so that every replica of the service shares the log.
The collection is created on first use; dropping the answer collection leaves it alone."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from faq_core.records import R, RecordLog
from faq_core.store.server.errors import translated

_TIME_FIELD = "created_at"


class QdrantRecordLog(RecordLog[R], Generic[R]):
    """Payload-only points in the collection `name`; a record's id is its point's id."""

    def __init__(
        self,
        client: QdrantClient,
        name: str,
        record_type: type[R],
        *,
        replication_factor: int = 1,
    ) -> None:
        self.client = client
        self.name = name
        self.location = name
        self._type = record_type
        self.replication_factor = replication_factor
        self._ready = False
        self._lock = threading.Lock()
        # One append at a time from this process: qdrant-client's local mode, the tests' stand-in
        # for the server, loses concurrent writes (its SQLite commits interleave), and records
        # come far too rarely for the order to cost anything.
        self._append_lock = threading.Lock()

    def _ensure_collection(self) -> None:
        with self._lock, translated():
            if self._ready:
                return
            if not self.client.collection_exists(self.name):
                try:
                    # No vectors: these points are never searched, only kept and read back.
                    self.client.create_collection(
                        self.name, vectors_config={}, replication_factor=self.replication_factor
                    )
                except UnexpectedResponse:
                    # Another process may have created it meanwhile; anything else is an error.
                    if not self.client.collection_exists(self.name):
                        raise
            self._ready = True

    def append(self, record: R) -> None:
        self._ensure_collection()
        point = models.PointStruct(id=record.id, vector={}, payload=record.to_json())
        with self._append_lock, translated():
            self.client.upsert(self.name, points=[point], wait=True)

    def append_many(self, records: Sequence[R]) -> None:
        """One request for all of them (a restore appends thousands)."""
        if not records:
            return
        self._ensure_collection()
        points = [models.PointStruct(id=r.id, vector={}, payload=r.to_json()) for r in records]
        with self._append_lock, translated():
            self.client.upsert(self.name, points=points, wait=True)

    def records(self) -> list[R]:
        with translated():
            if not self.client.collection_exists(self.name):
                return []
            records: list[R] = []
            offset: Any = None
            while True:
                points, offset = self.client.scroll(
                    self.name, offset=offset, limit=512, with_payload=True, with_vectors=False
                )
                records.extend(self._type.from_json(p.payload) for p in points)
                if offset is None:
                    break
        return sorted(records, key=lambda r: (r.created_at, r.id))

    def clear(self) -> None:
        self._delete(models.Filter())

    def delete_older_than(self, cutoff: datetime) -> int:
        older = models.Filter(
            must=[models.FieldCondition(key=_TIME_FIELD, range=models.DatetimeRange(lt=cutoff))]
        )
        with translated():
            if not self.client.collection_exists(self.name):
                return 0
            count = self.client.count(self.name, count_filter=older, exact=True).count
        self._delete(older)
        return count

    def _delete(self, which: models.Filter) -> None:
        with self._append_lock, translated():
            if self.client.collection_exists(self.name):
                self.client.delete(
                    self.name, points_selector=models.FilterSelector(filter=which), wait=True
                )
