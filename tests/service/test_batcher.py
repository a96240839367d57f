"""The micro-batcher with the real model and real threads: batching, order, overload, and errors
reaching callers. Its decisions alone are tested in test_batch_policy.py."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from faq_core.errors import Overloaded
from faq_core.servable import Servable, load_servable
from service.batch_policy import BatchPolicy, Estimates
from service.batcher import EncodeBatcher, EncodeFn
from service.cpu_threads import ThreadPolicy

QUESTIONS = [
    "how do i reset my password?",
    "what regions is the service available in, and can i pick the region for my data?",
    "is there a free tier?",
    "how are snapshots billed?",
    "can i use my own encryption keys?",
    "what happens to my data when i close my account?",
]


def by_model(model: Servable, texts: list[str], threads: int) -> np.ndarray:
    return model.encode(texts)


def batcher_of(
    encode: EncodeFn,
    *,
    max_batch: int,
    max_queue: int,
    max_wait_s: float = 0.5,
    workers: int = 1,
    linger_s: float = 0.0,
    on_batch: Callable[[int], None] | None = None,
    estimates: Estimates | None = None,
) -> EncodeBatcher:
    policy = BatchPolicy(max_batch, max_wait_s, workers=workers, linger_s=linger_s)
    batcher = EncodeBatcher(
        encode,
        policy,
        ThreadPolicy(threads=workers, workers=workers),
        max_queue=max_queue,
        on_batch=on_batch,
    )
    if estimates is not None:
        batcher.estimates = estimates
    return batcher


def run(
    batcher: EncodeBatcher, jobs: list[list[str]], models: Sequence[object] | None = None
) -> list[np.ndarray | BaseException]:
    """Each job encoded by its model; jobs of one model are of one generation."""
    named = models or [None] * len(jobs)
    generations = {key: i for i, key in enumerate(dict.fromkeys(id(m) for m in named))}

    async def main() -> list[np.ndarray | BaseException]:
        batcher.start()
        try:
            return await asyncio.gather(
                *(
                    batcher.encode(j, m, generations[id(m)])
                    for j, m in zip(jobs, named, strict=True)
                ),
                return_exceptions=True,
            )
        finally:
            batcher.stop()

    return asyncio.run(main())


def test_concurrent_jobs_share_batches_and_match_the_reference(servable: Servable) -> None:
    batch_sizes: list[int] = []
    batcher = batcher_of(
        by_model, max_batch=32, max_queue=64, max_wait_s=60, on_batch=batch_sizes.append
    )
    jobs = [[q] for q in QUESTIONS * 4] + [QUESTIONS[:3]]
    results = run(batcher, jobs, [servable] * len(jobs))
    reference = servable.encode(QUESTIONS)
    for job, result in zip(jobs, results, strict=True):
        assert isinstance(result, np.ndarray)
        expected = np.stack([reference[QUESTIONS.index(text)] for text in job])
        np.testing.assert_allclose(result, expected, atol=1e-5)
    assert sum(batch_sizes) == sum(len(j) for j in jobs)
    assert max(batch_sizes) > 1, "concurrent jobs were encoded one by one"


def test_a_full_queue_is_refused_at_once_with_a_retry_time(servable: Servable) -> None:
    batcher = batcher_of(by_model, max_batch=4, max_queue=2, max_wait_s=60)
    results = run(batcher, [[q] for q in QUESTIONS * 5], [servable] * len(QUESTIONS) * 5)
    refused = [r for r in results if isinstance(r, Overloaded)]
    served = [r for r in results if isinstance(r, np.ndarray)]
    assert refused and served
    assert len(refused) + len(served) == len(results)
    assert all(r.retry_after_s >= 1 for r in refused)


def test_questions_that_would_wait_too_long_are_refused(servable: Servable) -> None:
    # 100 texts/s, so that two waiting questions already exceed 1 ms
    batcher = batcher_of(
        by_model,
        max_batch=4,
        max_queue=1000,
        max_wait_s=0.001,
        estimates=Estimates(texts_per_second=100.0),
    )
    results = run(batcher, [[q] for q in QUESTIONS * 5], [servable] * len(QUESTIONS) * 5)
    assert any(isinstance(r, Overloaded) for r in results)
    assert any(isinstance(r, np.ndarray) for r in results)


def test_an_encoding_error_reaches_every_waiting_caller() -> None:
    def broken_encode(model: object, texts: list[str], threads: int) -> np.ndarray:
        raise RuntimeError(
            "CUDA out of memory"
        )  # a fault the real model cannot be made to raise here

    batcher = batcher_of(broken_encode, max_batch=8, max_queue=16, max_wait_s=60)
    results = run(batcher, [["a"], ["b"], ["c"]])
    assert all(isinstance(r, RuntimeError) and "out of memory" in str(r) for r in results)


def test_encode_before_start_is_an_error(servable: Servable) -> None:
    batcher = batcher_of(by_model, max_batch=8, max_queue=16)
    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(batcher.encode(["hi"], servable, 0))


def test_workers_encode_batches_side_by_side(servable: Servable) -> None:
    """A batch with the machine to itself gets every thread; batches of two workers overlap,
    each on its share; every caller still gets its own vectors."""
    told_threads: list[int] = []

    def encode(model: Servable, texts: list[str], threads: int) -> np.ndarray:
        told_threads.append(threads)
        return model.encode(texts)

    batcher = batcher_of(encode, max_batch=2, max_queue=64, max_wait_s=60, workers=2)
    jobs = [[q] for q in QUESTIONS * 4]
    results = run(batcher, jobs, [servable] * len(jobs))
    reference = servable.encode(QUESTIONS)
    for job, result in zip(jobs, results, strict=True):
        assert isinstance(result, np.ndarray)
        np.testing.assert_allclose(result[0], reference[QUESTIONS.index(job[0])], atol=1e-5)
    assert told_threads[0] == 2
    assert 1 in told_threads, "two workers never encoded at the same time"


def test_one_client_at_a_time_always_meets_the_first_worker(servable: Servable) -> None:
    """Questions one after another are all encoded by the first worker, whose threads are warm
    (and the only ones to keep a pool of OpenMP threads): a helper that was waiting for work when
    the first worker went idle hands the job over."""
    encoded_by: list[str] = []

    def encode(model: Servable, texts: list[str], threads: int) -> np.ndarray:
        encoded_by.append(threading.current_thread().name)
        return model.encode(texts)

    batcher = batcher_of(encode, max_batch=32, max_queue=64, max_wait_s=60, workers=2)

    async def one_after_another() -> None:
        batcher.start()
        try:
            for question in QUESTIONS * 3:
                await batcher.encode([question], servable, 0)
                await asyncio.sleep(0.005)  # the client's round trip
        finally:
            batcher.stop()

    asyncio.run(one_after_another())
    assert encoded_by == ["encode-batcher-0"] * len(QUESTIONS) * 3


def test_jobs_are_encoded_by_the_model_they_name(
    servable: Servable, untrained_servable_dir: Path
) -> None:
    """While the service switches servables, old and new questions share no batch."""
    untrained = load_servable(untrained_servable_dir, "cpu")
    batch_sizes: list[int] = []
    batcher = batcher_of(
        by_model, max_batch=32, max_queue=64, max_wait_s=60, on_batch=batch_sizes.append
    )
    models = [servable, untrained] * len(QUESTIONS)
    jobs = [[q] for q in QUESTIONS for _ in range(2)]
    results = run(batcher, jobs, models)
    references = {id(m): m.encode(QUESTIONS) for m in (servable, untrained)}
    for job, model, result in zip(jobs, models, results, strict=True):
        assert isinstance(result, np.ndarray)
        expected = references[id(model)][QUESTIONS.index(job[0])]
        np.testing.assert_allclose(result[0], expected, atol=1e-5)
    assert not np.allclose(references[id(servable)], references[id(untrained)], atol=1e-3)


def test_light_traffic_does_not_lower_the_throughput_estimate(servable: Servable) -> None:
    """Lone questions are slow per text; judging the batched throughput by them would refuse
    the next burst that the model can in fact serve in time."""
    # far above what the model does, so that a full batch always pulls it down, however fast
    fast = Estimates(texts_per_second=1_000_000.0)
    batcher = batcher_of(by_model, max_batch=8, max_queue=64, max_wait_s=60, estimates=fast)
    estimates = []

    async def one_by_one_then_a_full_batch() -> None:
        batcher.start()
        try:
            for question in QUESTIONS:
                await batcher.encode([question], servable, 0)
            estimates.append(batcher.estimates.texts_per_second)
            await batcher.encode(QUESTIONS[:1] * 8, servable, 0)
            estimates.append(batcher.estimates.texts_per_second)
        finally:
            batcher.stop()

    asyncio.run(one_by_one_then_a_full_batch())
    after_lone_questions, after_full_batch = estimates
    assert after_lone_questions == 1_000_000.0
    assert 800_000.0 < after_full_batch < 1_000_000.0  # a full batch does count, with weight 0.2


def test_jobs_naming_a_step_go_through_it_together_after_encoding(servable: Servable) -> None:
    """The step sees each job's own vectors and argument, once per batch for all the jobs of
    its generation; jobs naming no step get their vectors; a step's error reaches only the jobs
    of its own generation (one generation, one step)."""
    calls: list[list[int]] = []

    def nearest(jobs: list[tuple[np.ndarray, int]]) -> list[tuple[int, int]]:
        calls.append([arg for _, arg in jobs])
        reference = servable.encode(QUESTIONS)
        return [(arg, int(np.argmax(reference @ vectors[0]))) for vectors, arg in jobs]

    def broken(jobs: list[tuple[np.ndarray, int]]) -> list[int]:
        raise ConnectionError("store unreachable")  # a fault of a store, not of this batcher

    batcher = batcher_of(by_model, max_batch=32, max_queue=64, max_wait_s=60)

    async def main() -> list[object]:
        batcher.start()
        try:
            with_step = [
                batcher.encode([q], servable, 0, then=nearest, arg=i)
                for i, q in enumerate(QUESTIONS)
            ]
            plain = batcher.encode(QUESTIONS[:2], servable, 0)
            failing = batcher.encode(QUESTIONS[:1], servable, 1, then=broken, arg=None)
            return await asyncio.gather(*with_step, plain, failing, return_exceptions=True)
        finally:
            batcher.stop()

    *found, plain, failing = asyncio.run(main())
    assert found == [(i, i) for i in range(len(QUESTIONS))]  # each question finds itself
    assert sorted(arg for call in calls for arg in call) == list(range(len(QUESTIONS)))
    assert len(calls) < len(QUESTIONS), "the step ran once per job, not per batch"
    assert isinstance(plain, np.ndarray) and plain.shape == (2, servable.dim)
    assert isinstance(failing, ConnectionError)


@pytest.mark.parametrize(("typical_batch", "expected_batches"), [(32.0, [3]), (1.0, [1, 1, 1])])
def test_under_load_a_batch_lingers_for_more_questions(
    servable: Servable, typical_batch: float, expected_batches: list[int]
) -> None:
    """After batches of many (load), questions arriving 200 ms apart join one batch, as each
    extends the wait (300 ms) for the next; after lone questions (light traffic) each is encoded
    at once."""
    batch_sizes: list[int] = []
    batcher = batcher_of(
        by_model,
        max_batch=32,
        max_queue=64,
        max_wait_s=60,
        on_batch=batch_sizes.append,
        linger_s=0.3,
        estimates=Estimates(typical_batch=typical_batch),
    )

    async def three_questions_200_ms_apart() -> None:
        batcher.start()
        try:
            asked = []
            for question in QUESTIONS[:3]:
                asked.append(asyncio.ensure_future(batcher.encode([question], servable, 0)))
                await asyncio.sleep(0.2)
            await asyncio.gather(*asked)
        finally:
            batcher.stop()

    asyncio.run(three_questions_200_ms_apart())
    assert batch_sizes == expected_batches


@pytest.mark.parametrize(
    ("typical_batch", "waiting", "expected_batches"),
    [(32.0, 24, [8, 16]), (32.0, 40, [8, 32]), (1.0, 24, [24])],
)
def test_under_load_each_worker_takes_its_share_of_what_waits(
    servable: Servable, typical_batch: float, waiting: int, expected_batches: list[int]
) -> None:
    """Under load, while fewer than a full batch wait, a worker takes half a batch and leaves
    the rest to the other worker; a full batch it takes whole. Under light traffic a worker
    takes all that waits."""
    gate, blocked = threading.Event(), []
    batch_sizes: list[int] = []

    def encode(model: Servable, texts: list[str], threads: int) -> np.ndarray:
        if texts == ["hold on"]:
            blocked.append(texts)
            gate.wait(timeout=30)
        return model.encode(texts)

    batcher = batcher_of(
        encode,
        max_batch=32,
        max_queue=64,
        max_wait_s=60,
        on_batch=batch_sizes.append,
        workers=2,
        estimates=Estimates(typical_batch=typical_batch),
    )

    async def both_workers_busy_while_questions_queue_up() -> None:
        batcher.start()
        try:
            holding = []
            for n in (1, 2):  # one at a time, or the first worker takes both
                holding.append(asyncio.ensure_future(batcher.encode(["hold on"], servable, 0)))
                while len(blocked) < n:
                    await asyncio.sleep(0.01)
            questions = [[QUESTIONS[i % len(QUESTIONS)]] for i in range(waiting)]
            asked = [asyncio.ensure_future(batcher.encode(q, servable, 0)) for q in questions]
            await asyncio.sleep(0.1)  # all of them queued
            assert batcher.depth == waiting
            gate.set()
            await asyncio.gather(*holding, *asked)
        finally:
            gate.set()
            batcher.stop()

    asyncio.run(both_workers_busy_while_questions_queue_up())
    assert batch_sizes[:2] == [1, 1]
    assert sorted(batch_sizes[2:]) == expected_batches


def test_under_load_no_batch_takes_every_thread(servable: Servable) -> None:
    """A batch alone gets every thread under light traffic (a lone question is answered as fast
    as the model can), but not under load, where another batch is about to start beside it."""
    told_threads: list[int] = []

    def encode(model: Servable, texts: list[str], threads: int) -> np.ndarray:
        told_threads.append(threads)
        return model.encode(texts)

    for typical_batch in (1.0, 32.0):
        batcher = batcher_of(
            encode,
            max_batch=32,
            max_queue=64,
            max_wait_s=60,
            workers=2,
            estimates=Estimates(typical_batch=typical_batch),
        )
        run(batcher, [QUESTIONS[:1]], [servable])
    assert told_threads == [2, 1]
