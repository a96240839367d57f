"""The feedback log on a Qdrant server: payload-only points in `<collection>_feedback`
(see faq_core.feedback). Apart from it, so that the embedded service never loads qdrant-client."""

from __future__ import annotations

import threading
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import UnexpectedResponse

from faq_core.feedback import FEEDBACK_COLLECTION_SUFFIX, FeedbackEvent, FeedbackLog
from faq_core.store.server import translated


class QdrantFeedbackLog(FeedbackLog):
    """Payload-only points in the collection `<collection>_feedback`, created on first use."""

    def __init__(
        self, client: QdrantClient, collection: str, *, replication_factor: int = 1
    ) -> None:
        self.client = client
        self.name = collection + FEEDBACK_COLLECTION_SUFFIX
        self.replication_factor = replication_factor
        self._ready = False
        self._lock = threading.Lock()
        # One append at a time from this process: qdrant-client's local mode, the tests' stand-in
        # for the server, loses concurrent writes (its SQLite commits interleave), and feedback
        # comes far too rarely for the order to cost anything.
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

    def append(self, event: FeedbackEvent) -> None:
        self._ensure_collection()
        point = models.PointStruct(id=event.id, vector={}, payload=event.to_json())
        with self._append_lock, translated():
            self.client.upsert(self.name, points=[point], wait=True)

    def events(self) -> list[FeedbackEvent]:
        with translated():
            if not self.client.collection_exists(self.name):
                return []
            events: list[FeedbackEvent] = []
            offset: Any = None
            while True:
                records, offset = self.client.scroll(
                    self.name, offset=offset, limit=512, with_payload=True, with_vectors=False
                )
                events.extend(FeedbackEvent.from_json(r.payload) for r in records)
                if offset is None:
                    break
        return sorted(events, key=lambda e: (e.created_at, e.id))
