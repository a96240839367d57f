"""Free space on the embedded store's disk, checked before every write there.

Edge keeps its data in memory-mapped files that it creates sparse, 32 MiB at a time (write-ahead
log segments, vector chunks, payload pages), and fills page by page. When the filesystem has no
block left for a page it is writing, the kernel kills the process with SIGBUS: every request in
flight and every read go down with it, and a write that was cut short has to be replayed at the
next start, which needs the same space again. So a write is refused (StorageFull, HTTP 507)
before it reaches Edge once less than the margin, FAQ_MIN_FREE_MB, is free; reads never write,
and writes are taken again as soon as space is back. The margin and how it was sized:
docs/operations-disk.md.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from faq_core.errors import StorageFull

log = logging.getLogger(__name__)


def free_bytes(path: Path) -> int:
    """Bytes a process without privileges may still write on the filesystem holding `path` (or
    its nearest existing parent, before the store's directory is made)."""
    for candidate in (path, *path.parents):
        try:
            stat = os.statvfs(candidate)
        except FileNotFoundError:
            continue
        return stat.f_bavail * stat.f_frsize
    return 0


class DiskSpace:
    """The margin every write to the embedded store (its shards and its record logs) must leave
    free on the filesystem holding `path`."""

    def __init__(self, path: Path, min_free_bytes: int) -> None:
        self.path = Path(path)
        self.min_free_bytes = min_free_bytes
        self._lock = threading.Lock()
        self._refused = 0
        self._refusing = False

    @property
    def refused(self) -> int:
        """Writes refused so far for want of space."""
        return self._refused

    def free_bytes(self) -> int:
        return free_bytes(self.path)

    def refusal(self, needed: int = 0) -> StorageFull | None:
        """Why a write that takes `needed` bytes beyond the margin would be refused now; None
        when there is room for it."""
        free = self.free_bytes()
        if free >= self.min_free_bytes + needed:
            return None
        margin = f"less than the {self.min_free_bytes / 2**20:.0f} MB kept free (FAQ_MIN_FREE_MB)"
        if needed:
            margin += f" beyond the {needed / 2**20:.0f} MB this write needs"
        return StorageFull(self.path, free, margin)

    def check(self, needed: int = 0) -> None:
        """Raise StorageFull unless a write of `needed` bytes (beyond the margin) has room; the
        refusal is counted, and the first one after writes were taken, and the first write taken
        after refusals, are logged."""
        refusal = self.refusal(needed)
        with self._lock:
            if refusal is not None:
                self._refused += 1
                if not self._refusing:
                    log.warning("%s", refusal)
                self._refusing = True
            elif self._refusing:
                self._refusing = False
                log.warning(
                    "writes to %s are taken again: %.1f MB free",
                    self.path,
                    self.free_bytes() / 2**20,
                )
        if refusal is not None:
            raise refusal


def disk_bytes(directory: Path) -> int:
    """The disk space the files under `directory` take (allocated blocks, not their sparse
    sizes)."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                continue
    return total
