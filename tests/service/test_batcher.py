"""The micro-batcher with the real model: batching, order, overload, and errors reaching callers."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from faq_core.errors import Overloaded
from faq_core.servable import Servable
from service.batcher import EncodeBatcher

QUESTIONS = [
    "how do i reset my password?",
    "what regions is the service available in, and can i pick the region for my data?",
    "is there a free tier?",
    "how are snapshots billed?",
    "can i use my own encryption keys?",
    "what happens to my data when i close my account?",
]


def run(batcher: EncodeBatcher, jobs: list[list[str]]) -> list[np.ndarray | BaseException]:
    async def main() -> list[np.ndarray | BaseException]:
        batcher.start()
        try:
            return await asyncio.gather(*(batcher.encode(j) for j in jobs), return_exceptions=True)
        finally:
            batcher.stop()

    return asyncio.run(main())


def test_concurrent_jobs_share_batches_and_match_the_reference(servable: Servable) -> None:
    batch_sizes: list[int] = []
    batcher = EncodeBatcher(
        servable.encode, max_batch=32, max_queue=64, max_wait_s=60, on_batch=batch_sizes.append
    )
    jobs = [[q] for q in QUESTIONS * 4] + [QUESTIONS[:3]]
    results = run(batcher, jobs)
    reference = servable.encode(QUESTIONS)
    for job, result in zip(jobs, results, strict=True):
        assert isinstance(result, np.ndarray)
        expected = np.stack([reference[QUESTIONS.index(text)] for text in job])
        np.testing.assert_allclose(result, expected, atol=1e-5)
    assert sum(batch_sizes) == sum(len(j) for j in jobs)
    assert max(batch_sizes) > 1, "concurrent jobs were encoded one by one"


def test_a_full_queue_is_refused_at_once_with_a_retry_time(servable: Servable) -> None:
    batcher = EncodeBatcher(servable.encode, max_batch=4, max_queue=2, max_wait_s=60)
    results = run(batcher, [[q] for q in QUESTIONS * 5])
    refused = [r for r in results if isinstance(r, Overloaded)]
    served = [r for r in results if isinstance(r, np.ndarray)]
    assert refused and served
    assert len(refused) + len(served) == len(results)
    assert all(r.retry_after_s >= 1 for r in refused)


def test_questions_that_would_wait_too_long_are_refused(servable: Servable) -> None:
    batcher = EncodeBatcher(servable.encode, max_batch=4, max_queue=1000, max_wait_s=0.001)
    batcher.texts_per_second = 100.0  # so that two waiting questions already exceed 1 ms
    results = run(batcher, [[q] for q in QUESTIONS * 5])
    assert any(isinstance(r, Overloaded) for r in results)
    assert any(isinstance(r, np.ndarray) for r in results)


def test_an_encoding_error_reaches_every_waiting_caller() -> None:
    def broken_encode(texts: list[str]) -> np.ndarray:
        raise RuntimeError(
            "CUDA out of memory"
        )  # a fault the real model cannot be made to raise here

    batcher = EncodeBatcher(broken_encode, max_batch=8, max_queue=16, max_wait_s=60)
    results = run(batcher, [["a"], ["b"], ["c"]])
    assert all(isinstance(r, RuntimeError) and "out of memory" in str(r) for r in results)


def test_encode_before_start_is_an_error(servable: Servable) -> None:
    batcher = EncodeBatcher(servable.encode, max_batch=8, max_queue=16)
    with pytest.raises(RuntimeError, match="not running"):
        asyncio.run(batcher.encode(["hi"]))
