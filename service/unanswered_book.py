"""What the service keeps of the questions it could not answer, and how it shows them.

Questions `/ask` did not answer, and questions whose answer got `helpful: false`, go to the
unanswered log (faq_core.unanswered) through a writer thread, off the request path: offering a
record never blocks and never fails a request. Retention runs on that thread too. For
`GET /unanswered` the records are grouped with the model's own embeddings, and a group an entry
now answers confidently is marked resolved.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

import numpy as np

from faq_core.answering import Answer
from faq_core.records import RecordLog
from faq_core.settings import Settings
from faq_core.unanswered import (
    Candidate,
    Group,
    Reason,
    UnansweredQuestion,
    group,
    ordered,
    pack_vector,
    question_vectors,
    retain,
    select,
)
from service.record_writer import RecordWriter

log = logging.getLogger(__name__)
# GET /unanswered checks at most this many times `limit` groups for being resolved.
RESOLVE_ROUNDS = 4

Encode = Callable[[list[str]], Awaitable[np.ndarray]]
"""Questions embedded by the servable answering now."""
Answered = Callable[[str], Awaitable[bool]]
"""Whether a question is answered now (and not logged again for asking it)."""


class UnansweredBook:
    def __init__(
        self,
        records: RecordLog[UnansweredQuestion],
        settings: Settings,
        on_record: Callable[[str, int], None] | None = None,
    ) -> None:
        self.records = records
        self._settings = settings
        counted = on_record or (lambda outcome, n: None)
        self.writer = RecordWriter(
            records,
            capacity=settings.unanswered_queue,
            upkeep=self._retain,
            upkeep_after=max(1, settings.unanswered_max_records // 10),
            on_written=functools.partial(counted, "written"),
            on_dropped=functools.partial(counted, "dropped"),
        )

    def start(self) -> None:
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()

    def not_answered(
        self,
        question: str,
        reason: Reason,
        ranked: Sequence[Answer],
        source: str | None,
        model_id: str,
        vector: np.ndarray,
    ) -> None:
        """Keep a question `/ask` did not answer, with its best candidates (off the request
        path)."""
        self.writer.offer(
            UnansweredQuestion(
                question=question,
                reason=reason,
                candidates=tuple(Candidate(a.hit.entry.entry_id, a.confidence) for a in ranked[:3]),
                source=source,
                candidate_source=ranked[0].hit.entry.source if ranked else None,
                model_id=model_id,
                vector=pack_vector(vector),
            )
        )

    def unhelpful(
        self, question: str, answer_id: str, answer_source: str | None, model_id: str
    ) -> None:
        """Keep a question whose answer a user found unhelpful (off the request path)."""
        self.writer.offer(
            UnansweredQuestion(
                question=question,
                reason="unhelpful",
                candidates=(Candidate(answer_id),),
                candidate_source=answer_source,
                model_id=model_id,
            )
        )

    def _retain(self) -> None:
        removed = retain(
            self.records,
            self._settings.unanswered_retention_days,
            self._settings.unanswered_max_records,
        )
        if removed:
            log.info("dropped %d unanswered question(s) past retention", removed)

    async def groups(
        self,
        records: list[UnansweredQuestion],
        since: datetime | None,
        source: str | None,
        limit: int,
        *,
        model_id: str,
        encode: Encode,
        answered: Answered,
    ) -> list[Group]:
        """`records` grouped (faq_core.unanswered), open groups first, each part biggest first;
        at most `limit`. Questions without a vector of `model_id` are embedded by `encode`. A
        group is resolved when its most frequent question is `answered` now. Groups are checked
        for that biggest first, until `limit` open ones are found or RESOLVE_ROUNDS times
        `limit` were checked; groups beyond are left out."""
        # Selecting, unpacking the kept vectors and grouping take a while at the log's size
        # bound: they run in a thread, so that /ask keeps being answered meanwhile.
        chosen = await asyncio.to_thread(select, records, since, source)
        table, missing = await asyncio.to_thread(question_vectors, chosen, model_id)
        if missing:
            table.update(zip(missing, await encode(missing), strict=True))
        groups = await asyncio.to_thread(
            group, chosen, lambda questions: np.stack([table[q] for q in questions])
        )
        checked: list[Group] = []
        for start in range(0, min(len(groups), RESOLVE_ROUNDS * limit), limit):
            chunk = groups[start : start + limit]
            results = await asyncio.gather(*(answered(g.questions[0]) for g in chunk))
            for g, result in zip(chunk, results, strict=True):
                g.resolved = result
            checked += chunk
            if sum(not g.resolved for g in checked) >= limit:
                break
        return ordered(checked)[:limit]
