"""A store backend: everything kept for one collection on one kind of store (its catalog of
versions and its record logs), chosen once from the settings by `open_backend`.

The backends live in packages of their own, imported only when chosen: a server deployment
never loads qdrant-edge, the embedded one never loads qdrant-client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from functools import cached_property
from typing import Literal

from faq_core.errors import StorageFull
from faq_core.feedback import FEEDBACK_LOG, FeedbackEvent
from faq_core.records import R, RecordLog
from faq_core.settings import Settings
from faq_core.store.base import CollectionLayout, SearchTuning
from faq_core.store.catalog import Catalog


class Backend(ABC):
    """One collection's catalog and record logs, on the embedded store or a Qdrant server."""

    kind: Literal["embedded", "server"]
    location: str  # where the data lives: the store directory, or the server's URL
    catalog: Catalog

    @abstractmethod
    def record_log(self, name: str, record_type: type[R]) -> RecordLog[R]:
        """The record log `name` of the collection (all of its versions), created on first
        append."""

    @cached_property
    def feedback_log(self) -> RecordLog[FeedbackEvent]:
        return self.record_log(FEEDBACK_LOG, FeedbackEvent)

    # Disk space: only the embedded store's own disk is ours to watch; a server reports its own.

    def free_bytes(self) -> int | None:
        """Free space on the store's disk; None on a server."""
        return None

    def write_refusal(self) -> StorageFull | None:
        """Why writes are refused now (the disk is short of space); None while they are taken."""
        return None

    def check_writes(self) -> None:
        """Raise StorageFull, counted as a refusal, when a write would be refused now: a caller
        about to do costly work for a write asks first. The store's own check before each write
        is what guarantees it."""
        refusal = self.write_refusal()
        if refusal is not None:
            raise refusal

    @property
    def writes_refused(self) -> int:
        """Writes refused so far for want of disk space."""
        return 0

    def close(self) -> None:
        self.catalog.close()


def open_backend(settings: Settings) -> Backend:
    """A Qdrant server when `FAQ_QDRANT_URL` is set, else the embedded Qdrant Edge store.

    Connecting opens no collection yet; `Catalog.open_live` or the indexer do.
    """
    if settings.qdrant_url is None:
        from faq_core.store.edge import EdgeBackend

        return EdgeBackend.from_settings(settings)
    from faq_core.store.server import ServerBackend

    return ServerBackend.from_settings(settings)


def layout_for(settings: Settings, *, dim: int, model_id: str) -> CollectionLayout:
    """The collection the settings ask for, for the servable of this `dim` and `model_id`."""
    return CollectionLayout(
        dim, model_id, settings.hnsw_m, settings.hnsw_ef_construct, settings.store_quantization
    )


def search_tuning(settings: Settings) -> SearchTuning:
    return SearchTuning(settings.hnsw_ef, settings.search_oversampling)
