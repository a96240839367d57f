"""The two store backends as tests make them: the embedded store in a directory of the test's,
and qdrant-client's local mode standing in for a Qdrant server (the same client code path, no
network)."""

from __future__ import annotations

from pathlib import Path

from qdrant_client import QdrantClient

from faq_core.store import Backend
from faq_core.store.edge import EdgeBackend
from faq_core.store.server import ServerBackend

BACKENDS = ["edge", "server"]


def make_backend(kind: str, root: Path, *, on_disk: bool = False) -> Backend:
    """`kind`'s backend for the collection `faq`, keeping its data under `root`. The server's
    stand-in keeps it in memory unless `on_disk` (for what must survive a new client)."""
    if kind == "edge":
        return EdgeBackend(root / "store", "faq")
    if on_disk:
        return ServerBackend(QdrantClient(path=str(root / "qdrant")), "faq")
    return ServerBackend(QdrantClient(location=":memory:"), "faq")
