"""Collection versions: the indexer builds a new version beside the live one and switches to it
atomically when it is complete, so the service never answers from a half-built collection.

How a backend keeps versions and names the live one: faq_core.store.edge.catalog (directories
and a LIVE file) and faq_core.store.server.catalog (collections and an alias).
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from datetime import UTC, datetime

from faq_core.errors import CollectionMissing, FaqError
from faq_core.store.base import AnswerStore, CollectionLayout


def _version_name() -> str:
    """Sortable by creation time, so the newest versions are easy to tell apart."""
    return "v" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


class Catalog(ABC):
    """The versions of one collection, and which of them is live."""

    name: str

    @abstractmethod
    def live(self) -> str | None:
        """The live version, or None before the first index."""

    @abstractmethod
    def versions(self) -> list[str]:
        """Every version there is, live or not, oldest first."""

    @abstractmethod
    def store(self, version: str) -> AnswerStore:
        """The store of one version, connected but not opened."""

    @abstractmethod
    def switch(self, version: str) -> None:
        """Make `version` the live one, atomically."""

    @abstractmethod
    def close(self) -> None: ...

    def new_version(self) -> str:
        taken = set(self.versions())
        name = _version_name()
        while name in taken:  # two builds in the same microsecond
            name = _version_name()
        return name

    def open_live(self, layout: CollectionLayout) -> tuple[str, AnswerStore]:
        """The live version and its opened store; it must have been built by `layout`'s servable."""
        version = self.live()
        if version is None:
            raise CollectionMissing(f"collection {self.name!r} does not exist: run faq-index first")
        store = self.store(version)
        try:
            store.open(layout, create=False)
            store.ping()  # the embedded shard loads here, so that a lock held elsewhere shows now
        except Exception:
            store.close()
            raise
        return version, store

    def open_or_create_live(self, layout: CollectionLayout) -> tuple[str, AnswerStore, bool]:
        """`open_live`, and when the collection has no version yet, a new empty one made live
        for `layout`'s servable (True with it), so that entries can be added at runtime."""
        if self.live() is not None:
            return (*self.open_live(layout), False)
        version = self.new_version()
        store = self.store(version)
        try:
            store.open(layout, create=True)
            self.switch(version)
        except BaseException:
            with contextlib.suppress(FaqError):  # the store's own failure is the one to report
                store.drop()  # never live
            raise
        return version, store, True

    def prune(self, keep: set[str]) -> list[str]:
        """Drop every version not in `keep`; returns the dropped ones."""
        dropped = [v for v in self.versions() if v not in keep]
        for version in dropped:
            self.store(version).drop()
        return dropped
