"""Record logs of the embedded store: one append-only JSON Lines file per log,
`<store_path>/<collection>.<name>.jsonl`, one record a line.

The file sits beside the collection's directory, not in it, so that it outlives every version.
Appends hold a lock (threads and processes: a second faq-serve, or faq-feedback, may use the same
file) and are flushed and fsync'd before they return; like every write to the embedded store,
they are refused (StorageFull) when its disk is short of space. Removing records frees space and
is never refused for it: it rewrites the file beside it (a plain write, which a full disk fails
cleanly) and renames it over; an append that was waiting for the lock notices it holds the
replaced file and opens the new one.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Generic

from faq_core.errors import DataFileError
from faq_core.records import R, RecordLog, parse_time
from faq_core.store.edge.errors import translated
from faq_core.store.edge.space import DiskSpace


class FileRecordLog(RecordLog[R], Generic[R]):
    """Append-only JSON Lines; one record a line."""

    def __init__(self, path: Path, record_type: type[R], *, space: DiskSpace | None = None) -> None:
        """The log in the file `path`; with `space`, appends first check that the disk has
        room (StorageFull otherwise), as every write to the embedded store does."""
        self.path = Path(path)
        self._space = space
        self.location = str(self.path)
        self._type = record_type
        self._lock = threading.Lock()  # flock alone does not order this process's threads

    def append(self, record: R) -> None:
        line = (json.dumps(record.to_json(), ensure_ascii=False) + "\n").encode()
        if self._space is not None:
            self._space.check()
        with self._locked() as fd:
            _drop_torn_tail(fd)
            os.write(fd, line)
            os.fsync(fd)

    def append_many(self, records: Sequence[R]) -> None:
        """One write and one fsync for all of them (a restore appends thousands)."""
        if not records:
            return
        data = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in records)
        if self._space is not None:
            self._space.check(len(data))
        with self._locked() as fd:
            _drop_torn_tail(fd)
            view = memoryview(data.encode())
            while view:  # a large write may be taken in parts
                view = view[os.write(fd, view) :]
            os.fsync(fd)

    def records(self) -> list[R]:
        """A last line without its newline is an append in progress (or one a crash cut short,
        never acknowledged): it is not a record yet. Any other bad line is an error."""
        with translated(self.path):
            if not self.path.is_file():
                return []
            data = self.path.read_bytes()
        return self._parse(data)

    def clear(self) -> None:
        with self._locked() as fd:
            os.ftruncate(fd, 0)
            os.fsync(fd)

    def delete_older_than(self, cutoff: datetime) -> int:
        removed = 0

        def keep(record: R) -> bool:
            nonlocal removed
            kept = parse_time(record.created_at) >= cutoff
            removed += not kept
            return kept

        self._rewrite(keep)
        return removed

    def _parse(self, data: bytes) -> list[R]:
        lines = data.split(b"\n")[:-1]  # the part after the last newline is not a whole line
        records = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                records.append(self._type.from_json(json.loads(raw)))
            except (ValueError, UnicodeDecodeError) as exc:
                raise DataFileError(self.path, number, f"not a {self._type.kind}: {exc}") from exc
        return records

    def _rewrite(self, keep: Callable[[R], bool]) -> None:
        """Replace the file with the records `keep` accepts, atomically (a crash leaves either
        the old file or the new one)."""
        with self._locked() as fd:
            size = os.fstat(fd).st_size
            kept = [r for r in self._parse(os.pread(fd, size, 0)) if keep(r)]
            tmp = self.path.with_name(self.path.name + ".tmp")
            text = "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in kept)
            with translated(self.path):
                try:
                    with tmp.open("w", encoding="utf-8") as handle:
                        handle.write(text)
                        handle.flush()
                        os.fsync(handle.fileno())
                    os.replace(tmp, self.path)
                finally:
                    tmp.unlink(missing_ok=True)
                _fsync_directory(self.path.parent)

    @contextmanager
    def _locked(self) -> Iterator[int]:
        """The log file, open for appending and locked against other threads and processes;
        created (durably) when it is not there yet."""
        with self._lock, translated(self.path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            while True:
                created = not self.path.exists()
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    # While this waited for the lock, the file may have been replaced (records
                    # removed): then this fd holds the old one.
                    current = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    current = False
                except BaseException:
                    os.close(fd)
                    raise
                if current:
                    break
                os.close(fd)
            try:
                if created:  # the new file's directory entry must be durable too
                    _fsync_directory(self.path.parent)
                yield fd
            finally:
                os.close(fd)  # closing releases the flock


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _drop_torn_tail(fd: int) -> None:
    """Cut off a last line that has no newline: a crash interrupted its append before the fsync,
    so it was never acknowledged, and a new line written after it would be corrupted too."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - 4096)
        block = os.pread(fd, end - start, start)
        if end == size and block.endswith(b"\n"):
            return
        newline = block.rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return
        end = start
    if size:
        os.ftruncate(fd, 0)
