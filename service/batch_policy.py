"""When to take, refuse and group encode jobs: pure decisions over a snapshot of the queue.

The scheduler (`service.batcher`) holds the queue, the threads and the futures; it asks this
policy, with what it sees at that moment, whether to admit a job, how many texts a batch may
take, how long to linger for more, and whether a job waited too long to be worth encoding. It
tells the policy how long each batch took, and the policy keeps the two estimates its decisions
rest on. Nothing here reads a clock or blocks: every time is passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from faq_core.errors import Overloaded


class Estimates(NamedTuple):
    """What recent batches say about the model and the traffic (a tuple: one is made for every
    batch, and a snapshot for every job)."""

    # Batched throughput, refined from batches at least half full only: a lone question takes
    # nearly as long as a batch of eight, so counting small batches would make the model look
    # slow after quiet periods and refuse the next burst. A cautious start; warm-up refines it.
    texts_per_second: float = 50.0
    # Typical batch size lately: batches of several mean many clients at once.
    typical_batch: float = 1.0


class Snapshot(NamedTuple):
    """The queue as a decision sees it."""

    waiting_texts: int  # queued and not yet taken by a worker
    estimates: Estimates


@dataclass(frozen=True)
class BatchPolicy:
    max_batch: int  # texts in one model call
    max_wait_s: float  # the longest a question should wait to be encoded
    workers: int = 1  # batches encoded side by side
    linger_s: float = 0.0  # under load, how long a batch waits for the next job (0: never)

    def loaded(self, estimates: Estimates) -> bool:
        """Whether recent batches held several questions each: many clients at once."""
        return estimates.typical_batch >= max(2.0, self.max_batch / 8)

    def refusal(self, snapshot: Snapshot, texts: int) -> Overloaded | None:
        """Why a job of `texts` texts cannot be taken (None: it can). While the next batch has
        room a job waits at most for the batch being encoded and its own, so it is taken (so is
        a job alone, however long: an /answers batch); past that, it is refused when what waits
        before it would take longer than `max_wait_s` to encode."""
        waiting = snapshot.waiting_texts
        expected_wait_s = (waiting + texts) / max(snapshot.estimates.texts_per_second, 1.0)
        if waiting >= self.max_batch and expected_wait_s > self.max_wait_s:
            return self.overloaded(snapshot.estimates, waiting)
        return None

    def overloaded(self, estimates: Estimates, waiting_texts: int) -> Overloaded:
        """The refusal, with the time the queue needs to drain as its Retry-After."""
        drain_s = waiting_texts / max(estimates.texts_per_second, 1.0)
        return Overloaded(retry_after_s=max(1, math.ceil(drain_s)))

    def expired(self, waited_s: float) -> bool:
        """A job whose client has waited this long is answered Overloaded, not encoded."""
        return waited_s > 2 * self.max_wait_s

    def batch_limit(self, snapshot: Snapshot, first_texts: int) -> int:
        """How many texts a batch started with a job of `first_texts` texts may take. Under
        load, while fewer than a full batch wait, a worker takes its share of them: one worker
        taking all left the other the stragglers, and a straggler's client then cycled through
        that worker alone, a question at a time, each costing nearly what eight do, while the
        others waited for the big batch."""
        if (
            self.loaded(snapshot.estimates)
            and snapshot.waiting_texts + first_texts < self.max_batch
        ):
            return math.ceil(self.max_batch / self.workers)
        return self.max_batch

    def lingers(self, estimates: Estimates) -> bool:
        """Whether a batch waits for more jobs: only under load, where a batch's clients ask
        again one by one as the event loop lets them in. Under light traffic a lone question
        is encoded at once."""
        return self.linger_s > 0 and self.loaded(estimates)

    def linger_until(self, started: float, now: float) -> float:
        """When a lingering batch started at `started` stops waiting, as of a job joining at
        `now`: `linger_s` after the last job, at most 4 × `linger_s` after the start."""
        return min(started + 4 * self.linger_s, now + self.linger_s)

    def after_batch(
        self, estimates: Estimates, texts: int, elapsed_s: float, alone: bool
    ) -> Estimates:
        """The estimates once a batch of `texts` took `elapsed_s` (encoding and the steps after
        it: both hold up the worker's next batch). Only batches big enough to show the batched
        rate refine the throughput; under load workers encode side by side, so the queue drains
        at all their rates together."""
        elapsed_s = max(elapsed_s, 1e-6)
        typical = 0.8 * estimates.typical_batch + 0.2 * texts
        if 2 * texts * self.workers < self.max_batch:
            return Estimates(estimates.texts_per_second, typical)
        rate = texts / elapsed_s * (1 if alone else self.workers)
        return Estimates(0.8 * estimates.texts_per_second + 0.2 * rate, typical)
