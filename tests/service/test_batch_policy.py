"""The batch and thread policies' decisions, from snapshots alone: no threads, no clock."""

from __future__ import annotations

import pytest
import torch

from faq_core.settings import Settings
from service.batch_policy import BatchPolicy, Estimates, Snapshot
from service.cpu_threads import ThreadPolicy

POLICY = BatchPolicy(max_batch=32, max_wait_s=0.5, workers=2, linger_s=0.01)
LIGHT = Estimates(texts_per_second=100.0, typical_batch=1.0)
LOADED = Estimates(texts_per_second=100.0, typical_batch=16.0)


def test_a_job_is_admitted_while_the_next_batch_has_room_however_slow_the_model() -> None:
    # 31 texts waiting at 100 texts/s is 0.3 s, and an /answers batch of 500 makes it 5 s
    assert POLICY.refusal(Snapshot(31, LIGHT), texts=500) is None


def test_a_job_is_refused_when_a_full_batch_waits_and_draining_takes_too_long() -> None:
    refusal = POLICY.refusal(Snapshot(80, LIGHT), texts=1)  # 0.81 s > 0.5 s
    assert refusal is not None
    assert refusal.retry_after_s == 1  # 80 texts drain in 0.8 s: a whole second to wait


def test_the_retry_time_is_how_long_the_queue_takes_to_drain() -> None:
    refusal = POLICY.refusal(Snapshot(450, LIGHT), texts=1)
    assert refusal is not None and refusal.retry_after_s == 5


def test_a_full_batch_waiting_is_admitted_when_the_model_drains_it_in_time() -> None:
    fast = Estimates(texts_per_second=1000.0)
    assert POLICY.refusal(Snapshot(64, fast), texts=1) is None  # 65 ms


@pytest.mark.parametrize(("waited_s", "expired"), [(0.9, False), (1.0, False), (1.01, True)])
def test_a_job_waiting_past_twice_the_wait_is_not_encoded(waited_s: float, expired: bool) -> None:
    assert POLICY.expired(waited_s) is expired


@pytest.mark.parametrize(("typical_batch", "loaded"), [(1.0, False), (3.9, False), (4.0, True)])
def test_load_is_batches_of_an_eighth_of_the_maximum(typical_batch: float, loaded: bool) -> None:
    assert POLICY.loaded(Estimates(typical_batch=typical_batch)) is loaded


def test_small_batches_make_load_at_two_or_more() -> None:
    small = BatchPolicy(max_batch=8, max_wait_s=0.5)
    assert not small.loaded(Estimates(typical_batch=1.9))
    assert small.loaded(Estimates(typical_batch=2.0))


@pytest.mark.parametrize(
    ("estimates", "waiting", "limit"),
    [
        (LOADED, 10, 16),  # under load, fewer than a batch waiting: its share
        (LOADED, 31, 32),  # a full batch with this job: all of it
        (LIGHT, 10, 32),  # light traffic: all that waits
    ],
)
def test_how_much_a_batch_takes(estimates: Estimates, waiting: int, limit: int) -> None:
    assert POLICY.batch_limit(Snapshot(waiting, estimates), first_texts=1) == limit


def test_one_worker_takes_a_whole_batch_even_under_load() -> None:
    alone = BatchPolicy(max_batch=32, max_wait_s=0.5, workers=1, linger_s=0.01)
    assert alone.batch_limit(Snapshot(3, LOADED), first_texts=1) == 32


def test_a_batch_lingers_only_under_load_and_when_told_to() -> None:
    assert POLICY.lingers(LOADED)
    assert not POLICY.lingers(LIGHT)
    assert not BatchPolicy(max_batch=32, max_wait_s=0.5).lingers(LOADED)


def test_each_job_extends_the_linger_up_to_four_times_its_length() -> None:
    started = 100.0
    assert POLICY.linger_until(started, now=started) == pytest.approx(100.01)
    assert POLICY.linger_until(started, now=100.015) == pytest.approx(100.025)
    assert POLICY.linger_until(started, now=100.035) == pytest.approx(100.04)  # the cap


def test_small_batches_move_the_typical_batch_but_not_the_throughput() -> None:
    after = POLICY.after_batch(LOADED, texts=1, elapsed_s=0.05, alone=True)
    assert after.texts_per_second == LOADED.texts_per_second  # 20 texts/s would refuse a burst
    assert after.typical_batch == pytest.approx(0.8 * 16 + 0.2 * 1)


def test_a_big_batch_refines_the_throughput_at_every_workers_rate() -> None:
    beside = POLICY.after_batch(LIGHT, texts=16, elapsed_s=0.1, alone=False)
    assert beside.texts_per_second == pytest.approx(0.8 * 100 + 0.2 * 160 * 2)
    alone = POLICY.after_batch(LIGHT, texts=16, elapsed_s=0.1, alone=True)
    assert alone.texts_per_second == pytest.approx(0.8 * 100 + 0.2 * 160)


def test_a_batch_alone_gets_every_thread_else_its_share() -> None:
    threads = ThreadPolicy(threads=4, workers=2)
    assert threads.alone(first_worker=True, others_encoding=0, loaded=False)
    assert not threads.alone(first_worker=False, others_encoding=0, loaded=False)  # a helper
    assert not threads.alone(first_worker=True, others_encoding=1, loaded=False)
    assert not threads.alone(first_worker=True, others_encoding=0, loaded=True)
    assert threads.batch_threads(alone=True) == 4
    assert threads.batch_threads(alone=False) == 2
    assert ThreadPolicy(threads=2, workers=4).shared == 1


def test_a_worker_per_thread_on_a_cpu_and_one_on_a_gpu() -> None:
    settings = Settings(torch_threads=4)
    assert ThreadPolicy.of(settings, torch.device("cpu")) == ThreadPolicy(4, 4)
    assert ThreadPolicy.of(settings, torch.device("cuda")) == ThreadPolicy(4, 1)
    pinned = Settings(torch_threads=4, encode_workers=2)
    assert ThreadPolicy.of(pinned, torch.device("cpu")) == ThreadPolicy(4, 2)
