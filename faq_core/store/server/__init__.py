"""The server backend: a Qdrant server or cluster at `FAQ_QDRANT_URL`, through qdrant-client.

    <collection>--<version>    one collection per version (store.py)
    <collection>               the alias naming the live version (catalog.py)
    <collection>_<log>         record logs, such as the feedback (records.py)

The server does its own upkeep (indexing, flushing, vacuuming) in the background.
"""

from __future__ import annotations

from qdrant_client import QdrantClient

from faq_core.records import R
from faq_core.settings import Settings
from faq_core.store.backend import Backend, search_tuning
from faq_core.store.base import SearchTuning
from faq_core.store.server.catalog import ServerCatalog
from faq_core.store.server.records import QdrantRecordLog
from faq_core.store.server.store import ServerStore

__all__ = ["QdrantRecordLog", "ServerBackend", "ServerCatalog", "ServerStore"]


class ServerBackend(Backend):
    kind = "server"

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        *,
        location: str = "qdrant-client",
        shard_number: int = 1,
        replication_factor: int = 1,
        search: SearchTuning | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.location = location
        self.replication_factor = replication_factor
        self.catalog = ServerCatalog(
            client,
            collection,
            shard_number=shard_number,
            replication_factor=replication_factor,
            search=search,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerBackend:
        assert settings.qdrant_url is not None
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        client = QdrantClient(
            url=settings.qdrant_url,
            api_key=api_key,
            timeout=settings.qdrant_timeout_s,  # type: ignore[arg-type]  # httpx takes floats
            check_compatibility=False,  # no version probe on startup: the server may be down
        )
        return cls(
            client,
            settings.collection,
            location=settings.qdrant_url,
            shard_number=settings.shard_number,
            replication_factor=settings.replication_factor,
            search=search_tuning(settings),
        )

    def record_log(self, name: str, record_type: type[R]) -> QdrantRecordLog[R]:
        return QdrantRecordLog(
            self.client,
            f"{self.collection}_{name}",
            record_type,
            replication_factor=self.replication_factor,
        )
