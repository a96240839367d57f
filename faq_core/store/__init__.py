"""The answer store and the function that opens the backend the settings choose."""

from __future__ import annotations

from qdrant_client import QdrantClient

from faq_core.settings import Settings
from faq_core.store.base import AnswerStore, CollectionLayout, EncodedEntry, Hit
from faq_core.store.edge import EdgeStore
from faq_core.store.server import ServerStore

__all__ = [
    "AnswerStore",
    "CollectionLayout",
    "EncodedEntry",
    "Hit",
    "connect_store",
    "layout_for",
    "open_store",
]


def connect_store(settings: Settings) -> AnswerStore:
    """Qdrant server when `FAQ_QDRANT_URL` is set, else the embedded Qdrant Edge store.

    Connecting opens nothing yet; `AnswerStore.open` checks (or creates) the collection.
    """
    if settings.qdrant_url is None:
        return EdgeStore(settings.store_path, settings.collection, hnsw_ef=settings.hnsw_ef)
    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    client = QdrantClient(
        url=settings.qdrant_url, api_key=api_key, timeout=int(settings.qdrant_timeout_s)
    )
    return ServerStore(
        client,
        settings.collection,
        shard_number=settings.shard_number,
        replication_factor=settings.replication_factor,
        hnsw_ef=settings.hnsw_ef,
    )


def layout_for(settings: Settings, *, dim: int, model_id: str) -> CollectionLayout:
    """The collection the settings ask for, for the servable of this `dim` and `model_id`."""
    return CollectionLayout(dim, model_id, settings.hnsw_m, settings.hnsw_ef_construct)


def open_store(settings: Settings, *, dim: int, model_id: str, create: bool) -> AnswerStore:
    """Connect and open the configured collection for the servable of this `dim` and `model_id`."""
    store = connect_store(settings)
    layout = layout_for(settings, dim=dim, model_id=model_id)
    try:
        store.open(layout, create=create)
    except Exception:
        store.close()
        raise
    return store
