"""Micro-batching: concurrent encode jobs share one model call, off the event loop.

Jobs wait in a bounded queue; worker threads each take as many as fit in a batch, encode them
together and resolve each job's future on its own event loop. Under load (recent batches of
several) a worker lingers for more jobs while they keep arriving, and takes its share of what
waits rather than all of it, so that the workers' batches stay even. A job may name a step
that follows on the worker (`then`, such as the search for a question's answers): the jobs of a
batch that name the same step go through it together, so the store gets one batch of queries and
no request needs another thread hop. With several workers, batches are encoded side by side, each
on its share of the cores, and under light traffic a batch that has the machine to itself gets
all of it (the encode function is told which: `alone`). Each job names its model, so that while
the service switches servables old and new questions never mix. What cannot be served in time
is refused at once (Overloaded, which the service answers with 429 and Retry-After) rather than
left to time out: a job is refused when the queue is full or when the texts already waiting
would take longer than `max_wait_s` to encode, and a job that still waited longer than that is
dropped unencoded.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from faq_core.errors import Overloaded

log = logging.getLogger(__name__)

EncodeFn = Callable[[Any, list[str], bool], np.ndarray]
"""Encodes texts with a model, `alone` when no other batch is being encoded meanwhile; the
batcher passes each job's model through untouched."""

BatchStep = Callable[[list[tuple[np.ndarray, Any]]], list[Any]]
"""Runs on the worker right after encoding, once for the jobs of a batch that name it: given each
job's vectors and `arg`, returns each job's result. An exception reaches each of those jobs."""


@dataclass
class _Job:
    texts: list[str]
    model: Any
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    then: BatchStep | None = None
    arg: Any = None
    enqueued: float = field(default_factory=time.monotonic)


_STOP = object()


class EncodeBatcher:
    """Feeds one encode function from many coroutines."""

    def __init__(
        self,
        encode: EncodeFn,
        *,
        max_batch: int,
        max_queue: int,
        max_wait_s: float = 0.5,
        on_batch: Callable[[int], None] | None = None,
        workers: int = 1,
        linger_s: float = 0.0,
    ) -> None:
        self._encode = encode
        self.workers = workers
        self.linger_s = linger_s
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=max_queue)
        self._on_batch = on_batch
        self._threads: list[threading.Thread] = []
        self._waiting_texts = 0  # texts queued and not yet taken; written under _lock
        self._encoding = 0  # workers encoding now; written under _lock
        self._first_busy = threading.Event()  # set while the first worker encodes
        self._stopping = False
        self._lock = threading.Lock()
        # Batched throughput, refined from batches at least half full only: a lone question takes
        # nearly as long as a batch of eight, so counting small batches would make the model look
        # slow after quiet periods and refuse the next burst. A cautious start; warm-up refines it.
        self.texts_per_second = 50.0
        # Typical batch size lately: under load (batches of several) a worker lingers for more
        # jobs rather than encoding the first one alone, which costs nearly what a batch of eight
        # does; under light traffic (batches of one or two) it never waits.
        self.typical_batch = 1.0

    @property
    def depth(self) -> int:
        """Jobs waiting for the worker."""
        return self._queue.qsize()

    def start(self) -> None:
        self._threads = [
            threading.Thread(
                target=self._run, args=(i > 0,), name=f"encode-batcher-{i}", daemon=True
            )
            for i in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        if self._threads:
            self._stopping = True
            self._queue.put(_STOP)  # each worker puts it back for the next one on its way out
            for thread in self._threads:
                thread.join()
            self._threads = []

    def _overloaded(self, waiting_texts: int) -> Overloaded:
        drain_s = waiting_texts / max(self.texts_per_second, 1.0)
        return Overloaded(retry_after_s=max(1, math.ceil(drain_s)))

    async def encode(
        self, texts: list[str], model: Any = None, *, then: BatchStep | None = None, arg: Any = None
    ) -> Any:
        """Embeddings of `texts` by `model`, encoded together with whatever else is waiting; with
        `then`, what that step makes of them and `arg` instead."""
        if not self._threads:
            raise RuntimeError("the batcher is not running")
        loop = asyncio.get_running_loop()
        job = _Job(texts, model, loop.create_future(), loop, then, arg)
        with self._lock:
            waiting = self._waiting_texts
            expected_wait_s = (waiting + len(texts)) / max(self.texts_per_second, 1.0)
            # While the next batch has room a job waits at most for the batch being encoded and
            # its own, so it is taken (so is a job alone, however long: an /answers batch).
            if waiting >= self.max_batch and expected_wait_s > self.max_wait_s:
                raise self._overloaded(waiting)
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise self._overloaded(waiting) from None
            self._waiting_texts += len(texts)
        return await job.future

    def _take(self, timeout: float | None = None) -> _Job | object:
        """The next job, waiting at most `timeout` seconds (0: not at all; None: for ever)."""
        item = self._queue.get(block=timeout != 0, timeout=timeout or None)
        if isinstance(item, _Job):
            with self._lock:
                self._waiting_texts -= len(item.texts)
        return item

    @property
    def loaded(self) -> bool:
        """Whether recent batches held several questions each: many clients at once."""
        return self.typical_batch >= max(2.0, self.max_batch / 8)

    def _take_batch(self, first: _Job) -> list[_Job]:
        """`first` and the jobs that join it. Under load, a batch waits for the next job while
        jobs keep coming (`linger_s` after each, at most 4 × `linger_s` in all): when a batch is
        answered its clients ask again one by one, as the event loop lets them in. And while
        fewer than a full batch wait, a worker takes its share of them: one worker taking all
        left the other the stragglers, and a straggler's client then cycled through that worker
        alone, a question at a time, each costing nearly what eight do, while the others waited
        for the big batch."""
        jobs, size, loaded = [first], len(first.texts), self.loaded
        limit = self.max_batch
        if loaded and self._waiting_texts + size < self.max_batch:
            limit = math.ceil(self.max_batch / self.workers)
        linger = loaded and self.linger_s > 0
        started = time.monotonic()
        until = started + self.linger_s if linger else 0.0
        while size < limit:
            try:
                item = self._take(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)  # seen again by the loop once this batch is done
                break
            assert isinstance(item, _Job)
            jobs.append(item)
            size += len(item.texts)
            if linger:
                until = min(started + 4 * self.linger_s, time.monotonic() + self.linger_s)
        return jobs

    def _take_as_helper(self) -> _Job | object:
        """Helpers take work only while the first worker is encoding: one client at a time then
        always meets the same worker, whose torch threads are warm, rather than each in turn."""
        while True:
            self._first_busy.wait()
            try:
                item = self._take(timeout=0.05)
            except queue.Empty:
                continue
            if item is _STOP or self._first_busy.is_set():
                return item
            # The first worker went idle while this one waited for a job: the job is its.
            assert isinstance(item, _Job)
            with self._lock:
                self._waiting_texts += len(item.texts)
            self._queue.put(item)
            del item  # not held while this worker waits: see _run

    def _run(self, helper: bool) -> None:
        while True:
            item = self._take_as_helper() if helper else self._take()
            if item is _STOP:
                self._queue.put(_STOP)
                self._first_busy.set()  # for good: the helpers must come for the _STOP too
                return
            assert isinstance(item, _Job)
            self._serve(item, helper)
            # Nothing of a served batch stays referenced while this worker waits: a servable
            # replaced since must be free to go.
            del item

    def _serve(self, first: _Job, helper: bool) -> None:
        """Take a batch with `first`, encode it and answer each of its jobs."""
        now = time.monotonic()
        jobs = []
        for job in self._take_batch(first):
            if job.future.cancelled():
                continue
            if now - job.enqueued > 2 * self.max_wait_s:
                # Its client has waited too long already: answer now instead of encoding.
                job.loop.call_soon_threadsafe(_resolve, job.future, None, self._overloaded(1))
                continue
            jobs.append(job)
        by_model: dict[int, list[_Job]] = {}
        for job in jobs:
            by_model.setdefault(id(job.model), []).append(job)
        if not helper:
            self._first_busy.set()
        for same_model in by_model.values():
            self._encode_jobs(same_model, helper)
        if not helper and not self._stopping:
            self._first_busy.clear()

    def _encode_jobs(self, jobs: list[_Job], helper: bool) -> None:
        texts = [text for job in jobs for text in job.texts]
        with self._lock:
            # Under load another batch is about to start: one holding every thread would then
            # share the cores with it, and each of its threads would wait for the slowest. Only
            # the first worker ever gets every thread: each thread that does keeps a pool of
            # OpenMP threads, and with two pools the pools' threads sleep between operations
            # instead of spinning (see service.engine.load_on_one_thread).
            alone = not helper and self._encoding == 0 and not self.loaded
            self._encoding += 1
        started = time.perf_counter()
        try:
            vectors = self._encode(jobs[0].model, texts, alone)
        except Exception as exc:  # every waiting caller must hear about it
            log.exception("encoding a batch of %d texts failed", len(texts))
            for job in jobs:
                job.loop.call_soon_threadsafe(_resolve, job.future, None, exc)
            return
        finally:
            with self._lock:
                self._encoding -= 1
        offset = 0
        answers: list[tuple[_Job, Any, Exception | None]] = []
        steps: dict[int, list[tuple[_Job, np.ndarray]]] = {}
        for job in jobs:
            part = vectors[offset : offset + len(job.texts)]
            offset += len(job.texts)
            if job.then is None:
                answers.append((job, part, None))
            else:
                steps.setdefault(id(job.then), []).append((job, part))
        for group in steps.values():
            answers += _run_step(group)
        # The steps count: they hold up this worker's next batch as much as the encoding does.
        elapsed = max(time.perf_counter() - started, 1e-6)
        if 2 * len(texts) * self.workers >= self.max_batch:
            # Workers encode side by side under load: the queue drains at all their rates.
            rate = len(texts) / elapsed * (1 if alone else self.workers)
            self.texts_per_second = 0.8 * self.texts_per_second + 0.2 * rate
        self.typical_batch = 0.8 * self.typical_batch + 0.2 * len(texts)
        if self._on_batch is not None:
            self._on_batch(len(texts))
        # Callers resume only now, so that what they read of the estimates includes their batch.
        for job, value, error in answers:
            job.loop.call_soon_threadsafe(_resolve, job.future, value, error)


def _run_step(group: list[tuple[_Job, np.ndarray]]) -> list[tuple[_Job, Any, Exception | None]]:
    """Each job's answer from the step: its result, or the step's error."""
    step = group[0][0].then
    assert step is not None
    try:
        results = step([(part, job.arg) for job, part in group])
    except Exception as exc:  # each job's caller hears of it, as of an encoding error
        return [(job, None, exc) for job, _ in group]
    return [(job, result, None) for (job, _), result in zip(group, results, strict=True)]


def _resolve(future: asyncio.Future[Any], value: Any, error: Exception | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
