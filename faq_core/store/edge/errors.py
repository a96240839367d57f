"""The embedded store's failures, translated in one place, as the server backend translates its
client's: callers see StoreUnavailable, never Edge's exceptions or an OSError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faq_core.errors import StoreUnavailable

# Edge raises plain `Exception`s whose message is all there is to go on (qdrant-edge-py 0.9.0).
_LOCKED = "WouldBlock"  # its lock on the write-ahead log, held by another process


def in_use(path: Path) -> StoreUnavailable:
    return StoreUnavailable(
        f"the embedded store {path} is in use by another process "
        "(only one process can open it: stop faq-serve before running faq-index, "
        "or use a Qdrant server via FAQ_QDRANT_URL)"
    )


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """Edge's errors and the OSErrors of our own files under `path` become StoreUnavailable.

    Only Edge's plain `Exception`s are translated, not its subclasses: a TypeError or a
    KeyError is a bug in this code and must not pass for an unavailable store.
    """
    try:
        yield
    except OSError as exc:
        raise StoreUnavailable(f"embedded store {path}: {exc}") from exc
    except Exception as exc:
        if type(exc) is not Exception:
            raise
        if _LOCKED in str(exc):
            raise in_use(path) from exc
        raise StoreUnavailable(f"embedded store {path}: {exc}") from exc
