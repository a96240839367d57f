"""The embedded store's failures, translated in one place, as the server backend translates its
client's: callers see StoreUnavailable (or StorageFull when the disk is full), never Edge's
exceptions or an OSError."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faq_core.errors import StorageFull, StoreUnavailable
from faq_core.store.edge.space import free_bytes

# Edge raises plain `Exception`s whose message is all there is to go on (qdrant-edge-py 0.9.0).
_NO_SPACE = "os error 28"  # ENOSPC, as Rust's io::Error prints it
_LOCKED = "WouldBlock"  # its lock on the write-ahead log, held by another process


def in_use(path: Path) -> StoreUnavailable:
    return StoreUnavailable(
        f"the embedded store {path} is in use by another process "
        "(only one process can open it: stop faq-serve before running faq-index, "
        "or use a Qdrant server via FAQ_QDRANT_URL)"
    )


def no_space(path: Path) -> StorageFull:
    """A write the filesystem refused, past the margin's check (another process took the
    space meanwhile)."""
    return StorageFull(path, free_bytes(path), "and a write failed: no space left on device")


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Edge's errors and the OSErrors of our own files under `path` become domain errors.

    Only Edge's plain `Exception`s are translated, not its subclasses: a TypeError or a
    KeyError is a bug in this code and must not pass for an unavailable store.
    """
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise no_space(path) from exc
        raise StoreUnavailable(f"embedded store {path}: {exc}") from exc
    except Exception as exc:
        if type(exc) is not Exception:
            raise
        if _LOCKED in str(exc):
            raise in_use(path) from exc
        if _NO_SPACE in str(exc):
            raise no_space(path) from exc
        raise StoreUnavailable(f"embedded store {path}: {exc}") from exc
