"""The answer store: one interface (base.py), collection versions (catalog.py), and two backends,
each a package of its own (edge/: Qdrant Edge embedded; server/: a Qdrant server), of which
`open_backend` chooses one from the settings."""

from __future__ import annotations

from faq_core.settings import Settings
from faq_core.store.backend import Backend, layout_for, open_backend, search_tuning
from faq_core.store.base import (
    AnswerStore,
    CollectionLayout,
    EncodedEntry,
    Hit,
    SearchRequest,
    SearchTuning,
)
from faq_core.store.catalog import Catalog

__all__ = [
    "AnswerStore",
    "Backend",
    "Catalog",
    "CollectionLayout",
    "EncodedEntry",
    "Hit",
    "SearchRequest",
    "SearchTuning",
    "layout_for",
    "open_backend",
    "open_store",
    "search_tuning",
]


def open_store(settings: Settings, *, dim: int, model_id: str) -> tuple[Backend, AnswerStore]:
    """The configured collection's live version, opened for the servable of `dim` and
    `model_id`, and the backend it belongs to (close both)."""
    backend = open_backend(settings)
    try:
        _, store = backend.catalog.open_live(layout_for(settings, dim=dim, model_id=model_id))
    except Exception:
        backend.close()
        raise
    return backend, store
