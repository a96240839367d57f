"""Micro-batching: concurrent encode jobs share one model call, off the event loop.

This is the scheduler: it holds the queue, the worker threads and the futures, and asks the batch
policy (`service.batch_policy`) what to admit, how much to take and how long to linger, and the
thread policy (`service.cpu_threads`) how many threads each batch gets. Jobs wait in a bounded
queue; worker threads each take a batch, encode it and resolve each job's future on its own event
loop. A job may name a step that follows on the worker (`then`, such as the search for a
question's answers): the jobs of a batch that name it go through it together, so the store gets
one batch of queries and no request needs another thread hop. Each job carries the id of the
generation it serves (a servable and its step): while the service switches servables, old and
new questions never share a model call. What cannot be served in time is refused at once
(Overloaded, which the service answers with 429 and Retry-After) rather than left to time out.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.batch_policy import BatchPolicy, Estimates, Snapshot
from service.cpu_threads import ThreadPolicy

log = logging.getLogger(__name__)

EncodeFn = Callable[[Any, list[str], int], np.ndarray]
"""Encodes texts with a model on the given number of threads; the batcher passes each job's
model through untouched."""

BatchStep = Callable[[list[tuple[np.ndarray, Any]]], list[Any]]
"""Runs on the worker right after encoding, once for the jobs of a batch that name it: given each
job's vectors and `arg`, returns each job's result. An exception reaches each of those jobs."""


@dataclass
class _Job:
    texts: list[str]
    generation: int  # jobs of one generation share their model and their step
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
        policy: BatchPolicy,
        threads: ThreadPolicy,
        *,
        max_queue: int,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._encode = encode
        self.policy = policy
        self.threads = threads
        self.estimates = Estimates()
        self._queue: queue.Queue[_Job | object] = queue.Queue(maxsize=max_queue)
        self._on_batch = on_batch
        self._workers: list[threading.Thread] = []
        self._waiting_texts = 0  # texts queued and not yet taken; written under _lock
        self._encoding = 0  # workers encoding now; written under _lock
        self._first_busy = threading.Event()  # set while the first worker encodes
        self._stopping = False
        self._lock = threading.Lock()

    @property
    def depth(self) -> int:
        """Jobs waiting for a worker."""
        return self._queue.qsize()

    @property
    def max_batch(self) -> int:
        return self.policy.max_batch

    def _snapshot(self) -> Snapshot:
        return Snapshot(self._waiting_texts, self.estimates)

    def start(self) -> None:
        self._workers = [
            threading.Thread(
                target=self._run, args=(i > 0,), name=f"encode-batcher-{i}", daemon=True
            )
            for i in range(self.policy.workers)
        ]
        for thread in self._workers:
            thread.start()

    def stop(self) -> None:
        if self._workers:
            self._stopping = True
            self._queue.put(_STOP)  # each worker puts it back for the next one on its way out
            for thread in self._workers:
                thread.join()
            self._workers = []

    async def encode(
        self,
        texts: list[str],
        model: Any,
        generation: int,
        *,
        then: BatchStep | None = None,
        arg: Any = None,
    ) -> Any:
        """Embeddings of `texts` by `model` (that of `generation`), encoded together with
        whatever else of that generation is waiting; with `then`, what that step makes of them
        and `arg` instead."""
        if not self._workers:
            raise RuntimeError("the batcher is not running")
        loop = asyncio.get_running_loop()
        job = _Job(texts, generation, model, loop.create_future(), loop, then, arg)
        with self._lock:
            refusal = self.policy.refusal(self._snapshot(), len(texts))
            if refusal is not None:
                raise refusal
            try:
                self._queue.put_nowait(job)
            except queue.Full:
                raise self.policy.overloaded(self.estimates, self._waiting_texts) from None
            self._waiting_texts += len(texts)
        return await job.future

    def _take(self, timeout: float | None = None) -> _Job | object:
        """The next job, waiting at most `timeout` seconds (0: not at all; None: for ever)."""
        item = self._queue.get(block=timeout != 0, timeout=timeout or None)
        if isinstance(item, _Job):
            with self._lock:
                self._waiting_texts -= len(item.texts)
        return item

    def _take_batch(self, first: _Job) -> list[_Job]:
        """`first` and the jobs that join it, as many and for as long as the policy says."""
        snapshot = self._snapshot()
        jobs, size = [first], len(first.texts)
        limit = self.policy.batch_limit(snapshot, size)
        linger = self.policy.lingers(snapshot.estimates)
        started = time.monotonic()
        until = self.policy.linger_until(started, started) if linger else 0.0
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
                until = self.policy.linger_until(started, time.monotonic())
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
        by_generation: dict[int, list[_Job]] = {}
        for job in self._take_batch(first):
            if job.future.cancelled():
                continue
            if self.policy.expired(now - job.enqueued):
                refusal = self.policy.overloaded(self.estimates, 1)
                job.loop.call_soon_threadsafe(_resolve, job.future, None, refusal)
                continue
            by_generation.setdefault(job.generation, []).append(job)
        if not helper:
            self._first_busy.set()
        for jobs in by_generation.values():
            self._encode_jobs(jobs, helper)
        if not helper and not self._stopping:
            self._first_busy.clear()

    def _encode_jobs(self, jobs: list[_Job], helper: bool) -> None:
        """Encode the jobs of one generation in one call, run their step, answer each."""
        texts = [text for job in jobs for text in job.texts]
        with self._lock:
            alone = self.threads.alone(
                first_worker=not helper,
                others_encoding=self._encoding,
                loaded=self.policy.loaded(self.estimates),
            )
            self._encoding += 1
        started = time.perf_counter()
        try:
            vectors = self._encode(jobs[0].model, texts, self.threads.batch_threads(alone))
        except Exception as exc:  # every waiting caller must hear about it
            log.exception("encoding a batch of %d texts failed", len(texts))
            for job in jobs:
                job.loop.call_soon_threadsafe(_resolve, job.future, None, exc)
            return
        finally:
            with self._lock:
                self._encoding -= 1
        answers = _answers(jobs, vectors)
        elapsed = time.perf_counter() - started  # the step counts: it holds up the next batch
        self.estimates = self.policy.after_batch(self.estimates, len(texts), elapsed, alone)
        if self._on_batch is not None:
            self._on_batch(len(texts))
        # Callers resume only now, so that what they read of the estimates includes their batch.
        for job, value, error in answers:
            job.loop.call_soon_threadsafe(_resolve, job.future, value, error)


def _answers(jobs: list[_Job], vectors: np.ndarray) -> list[tuple[_Job, Any, Exception | None]]:
    """Each job's answer: its vectors, or what its step made of them (all of a generation's
    jobs that name a step name the same one)."""
    offset = 0
    answers: list[tuple[_Job, Any, Exception | None]] = []
    stepped: list[tuple[_Job, np.ndarray]] = []
    for job in jobs:
        part = vectors[offset : offset + len(job.texts)]
        offset += len(job.texts)
        if job.then is None:
            answers.append((job, part, None))
        else:
            stepped.append((job, part))
    if stepped:
        answers += _run_step(stepped)
    return answers


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
