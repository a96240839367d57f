"""The answer store and the functions that open the backend the settings choose."""

from __future__ import annotations

from faq_core.settings import Settings
from faq_core.store.base import (
    AnswerStore,
    CollectionLayout,
    EncodedEntry,
    Hit,
    SearchRequest,
    SearchTuning,
)
from faq_core.store.catalog import Catalog, EdgeCatalog

__all__ = [
    "AnswerStore",
    "Catalog",
    "CollectionLayout",
    "EncodedEntry",
    "Hit",
    "SearchRequest",
    "layout_for",
    "open_catalog",
    "open_store",
]


def open_catalog(settings: Settings) -> Catalog:
    """Qdrant server when `FAQ_QDRANT_URL` is set, else the embedded Qdrant Edge store.

    Connecting opens no collection yet; `Catalog.open_live` or the indexer do.
    """
    if settings.qdrant_url is None:
        return EdgeCatalog(settings.store_path, settings.collection, search=search_tuning(settings))
    # Imported here: the embedded store needs no qdrant-client (43 MB of the service's memory).
    from qdrant_client import QdrantClient

    from faq_core.store.server import ServerCatalog

    api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    client = QdrantClient(
        url=settings.qdrant_url,
        api_key=api_key,
        timeout=settings.qdrant_timeout_s,  # type: ignore[arg-type]  # httpx takes floats
        check_compatibility=False,  # no version probe on startup: the server may be down
    )
    return ServerCatalog(
        client,
        settings.collection,
        shard_number=settings.shard_number,
        replication_factor=settings.replication_factor,
        search=search_tuning(settings),
    )


def layout_for(settings: Settings, *, dim: int, model_id: str) -> CollectionLayout:
    """The collection the settings ask for, for the servable of this `dim` and `model_id`."""
    return CollectionLayout(
        dim, model_id, settings.hnsw_m, settings.hnsw_ef_construct, settings.store_quantization
    )


def search_tuning(settings: Settings) -> SearchTuning:
    return SearchTuning(settings.hnsw_ef, settings.search_oversampling)


def open_store(settings: Settings, *, dim: int, model_id: str) -> tuple[Catalog, AnswerStore]:
    """The configured collection's live version, opened for the servable of `dim` and
    `model_id`, and the catalog it belongs to (close both)."""
    catalog = open_catalog(settings)
    try:
        _, store = catalog.open_live(layout_for(settings, dim=dim, model_id=model_id))
    except Exception:
        catalog.close()
        raise
    return catalog, store
