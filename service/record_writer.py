"""Records written off the request path: `offer` hands a record to a thread of its own and
returns at once, so that `/ask` never waits for a disk or a server.

What it guarantees: `offer` never blocks and never raises; a record offered while the queue is
full is dropped and counted; an append that fails is logged and counted, its records dropped
(the log is a help to the people who run the FAQ, never a reason to fail a user's question).
Records still queued when the process is killed are lost; everything appended before is
durable (the record log's guarantee).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic

from faq_core.records import R, RecordLog

log = logging.getLogger(__name__)

BATCH = 256  # records appended in one go, when that many wait


class RecordWriter(Generic[R]):
    def __init__(
        self,
        records: RecordLog[R],
        *,
        capacity: int,
        upkeep: Callable[[], None] | None = None,
        upkeep_every_s: float = 3600.0,
        upkeep_after: int | None = None,
        on_written: Callable[[int], None] | None = None,
        on_dropped: Callable[[int], None] | None = None,
    ) -> None:
        self.records = records
        self._queue: queue.Queue[R] = queue.Queue(maxsize=capacity)
        self._upkeep = upkeep
        self._upkeep_every_s = upkeep_every_s
        self._upkeep_after = upkeep_after  # records written since the last upkeep
        self._on_written = on_written or (lambda n: None)
        self._on_dropped = on_dropped or (lambda n: None)
        self._stopping = threading.Event()
        self._idle = threading.Condition()
        self._busy = 0  # records taken from the queue and not yet appended
        self._thread = threading.Thread(target=self._run, name="record-writer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def offer(self, record: R) -> bool:
        """Queue `record` for appending; False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            self._on_dropped(1)
            return False
        return True

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until everything offered so far has been appended or dropped (tests, shutdown)."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    def stop(self, timeout_s: float = 5.0) -> None:
        """Append what is queued (within `timeout_s`), then end the thread."""
        self.wait_idle(timeout_s)
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        next_upkeep = time.monotonic()
        written = 0
        while not self._stopping.is_set():
            due = time.monotonic() >= next_upkeep or (
                self._upkeep_after is not None and written >= self._upkeep_after
            )
            if self._upkeep is not None and due:
                self._run_upkeep()
                next_upkeep = time.monotonic() + self._upkeep_every_s
                written = 0
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            written += self._write(batch)
            for _ in batch:
                self._queue.task_done()
            with self._idle:
                self._idle.notify_all()

    def _write(self, batch: list[R]) -> int:
        """Append `batch`; how many records were written."""
        try:
            self.records.append_many(batch)
        except Exception as exc:  # any failure: this thread must go on
            log.warning(
                "could not keep %d record(s) in %s: %s", len(batch), self.records.location, exc
            )
            self._on_dropped(len(batch))
            return 0
        self._on_written(len(batch))
        return len(batch)

    def _run_upkeep(self) -> None:
        assert self._upkeep is not None
        try:
            self._upkeep()
        except Exception as exc:
            log.warning("upkeep of %s failed: %s", self.records.location, exc)
