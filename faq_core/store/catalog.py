"""Collection versions: the indexer builds a new version beside the live one and switches to it
atomically when it is complete, so the service never answers from a half-built collection.

On a Qdrant server each version is a collection `<collection>--<version>` and the live one is
the alias `<collection>` (alias changes are atomic on the server). In the embedded store each
version is a directory `<store_path>/<collection>/versions/<version>/` and the live one is named
by the file `<store_path>/<collection>/LIVE`, replaced atomically with rename.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path

from faq_core.errors import CollectionMissing
from faq_core.store.base import AnswerStore, CollectionLayout, SearchTuning
from faq_core.store.edge import EdgeStore


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

    def prune(self, keep: set[str]) -> list[str]:
        """Drop every version not in `keep`; returns the dropped ones."""
        dropped = [v for v in self.versions() if v not in keep]
        for version in dropped:
            self.store(version).drop()
        return dropped


class EdgeCatalog(Catalog):
    def __init__(
        self, store_path: Path, collection: str, *, search: SearchTuning | None = None
    ) -> None:
        self.name = collection
        self.root = Path(store_path) / collection
        self._versions_dir = self.root / "versions"
        self._live_file = self.root / "LIVE"
        self._search = search

    def live(self) -> str | None:
        try:
            return self._live_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def versions(self) -> list[str]:
        if not self._versions_dir.is_dir():
            return []
        return sorted(p.name for p in self._versions_dir.iterdir() if p.is_dir())

    def store(self, version: str) -> EdgeStore:
        return EdgeStore(self._versions_dir, version, search=self._search)

    def switch(self, version: str) -> None:
        if not (self._versions_dir / version).is_dir():
            raise CollectionMissing(f"collection {self.name!r} has no version {version!r}")
        tmp = self.root / "LIVE.tmp"
        with tmp.open("w") as handle:
            handle.write(version)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._live_file)
        # The rename itself must survive a crash too.
        directory = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def close(self) -> None:
        """Nothing held: each version's store holds its own shard."""
