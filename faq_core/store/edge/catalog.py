"""The embedded store's versions: each one a directory
`<store_path>/<collection>/versions/<version>/` holding an Edge shard, and the live one named by
the file `<store_path>/<collection>/LIVE`, replaced atomically with rename."""

from __future__ import annotations

import os
from pathlib import Path

from faq_core.errors import CollectionMissing
from faq_core.store.base import SearchTuning
from faq_core.store.catalog import Catalog
from faq_core.store.edge.errors import translated
from faq_core.store.edge.space import DiskSpace
from faq_core.store.edge.store import EdgeStore


class EdgeCatalog(Catalog):
    def __init__(
        self,
        store_path: Path,
        collection: str,
        *,
        search: SearchTuning | None = None,
        space: DiskSpace | None = None,
    ) -> None:
        self.name = collection
        self.root = Path(store_path) / collection
        self._versions_dir = self.root / "versions"
        self._live_file = self.root / "LIVE"
        self._search = search
        self._space = space

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
        return EdgeStore(self._versions_dir, version, search=self._search, space=self._space)

    def switch(self, version: str) -> None:
        if not (self._versions_dir / version).is_dir():
            raise CollectionMissing(f"collection {self.name!r} has no version {version!r}")
        with translated(self.root):
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
