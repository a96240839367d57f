"""Micro-batching: concurrent encode jobs share one model call, off the event loop.

Jobs wait in a bounded queue; one worker thread takes as many as fit in a batch, encodes them
together and resolves each job's future on its own event loop. A full queue is refused at once
(Overloaded), so the caller can answer 429 instead of letting clients time out.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from faq_core.errors import Overloaded

log = logging.getLogger(__name__)

EncodeFn = Callable[[list[str]], np.ndarray]


@dataclass
class _Job:
    texts: list[str]
    future: asyncio.Future[np.ndarray]
    loop: asyncio.AbstractEventLoop


_STOP = object()


class EncodeBatcher:
    """Feeds one encode function from many coroutines."""

    def __init__(
        self,
        encode: EncodeFn,
        *,
        max_batch: int,
        max_queue: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._encode = encode
        self.max_batch = max_batch
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=max_queue)
        self._on_batch = on_batch
        self._thread: threading.Thread | None = None
        self._texts_per_second = 100.0  # refined from every batch; used for Retry-After

    @property
    def depth(self) -> int:
        """Jobs waiting for the worker."""
        return self._queue.qsize()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="encode-batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None

    async def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings of `texts`, encoded together with whatever else is waiting."""
        if self._thread is None:
            raise RuntimeError("the batcher is not running")
        loop = asyncio.get_running_loop()
        job = _Job(texts, loop.create_future(), loop)
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            wait_s = self._queue.maxsize * self.max_batch / max(self._texts_per_second, 1.0)
            raise Overloaded(retry_after_s=max(1, math.ceil(wait_s))) from None
        return await job.future

    def _take_batch(self, first: _Job) -> list[_Job]:
        jobs, size = [first], len(first.texts)
        while size < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)  # seen again by the loop once this batch is done
                break
            assert isinstance(item, _Job)
            jobs.append(item)
            size += len(item.texts)
        return jobs

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            assert isinstance(item, _Job)
            jobs = [job for job in self._take_batch(item) if not job.future.cancelled()]
            if not jobs:
                continue
            texts = [text for job in jobs for text in job.texts]
            started = time.perf_counter()
            try:
                vectors = self._encode(texts)
            except Exception as exc:  # every waiting caller must hear about it
                log.exception("encoding a batch of %d texts failed", len(texts))
                for job in jobs:
                    job.loop.call_soon_threadsafe(_resolve, job.future, None, exc)
                continue
            elapsed = max(time.perf_counter() - started, 1e-6)
            self._texts_per_second = 0.8 * self._texts_per_second + 0.2 * len(texts) / elapsed
            if self._on_batch is not None:
                self._on_batch(len(texts))
            offset = 0
            for job in jobs:
                part = vectors[offset : offset + len(job.texts)]
                offset += len(job.texts)
                job.loop.call_soon_threadsafe(_resolve, job.future, part, None)


def _resolve(future: asyncio.Future[np.ndarray], value: np.ndarray | None, error: Exception | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert value is not None
        future.set_result(value)
