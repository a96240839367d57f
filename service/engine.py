"""The answer engine: servable + store + batcher, with no HTTP in it.

The app's lifespan builds it, starts it and closes it; routes only call its methods.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import torch

from faq_core.encoding import entry_texts, pair_vectors
from faq_core.entries import FaqEntry
from faq_core.errors import EntryNotFound
from faq_core.feedback import FeedbackEvent, feedback_log_for
from faq_core.servable import Servable, load_servable
from faq_core.settings import Settings
from faq_core.store import AnswerStore, Hit, open_store
from service.batcher import EncodeBatcher

log = logging.getLogger(__name__)


class AnswerEngine:
    """Answers questions and keeps the FAQ; every blocking call runs off the event loop."""

    def __init__(
        self,
        servable: Servable,
        store: AnswerStore,
        settings: Settings,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.servable = servable
        self.store = store
        self.batcher = EncodeBatcher(
            self._encode,
            max_batch=settings.max_batch_size,
            max_queue=settings.max_queue,
            max_wait_s=settings.max_wait_ms / 1000,
            on_batch=on_batch,
        )
        self._encode_batch_size = settings.max_batch_size
        self.feedback_log = feedback_log_for(store, settings)

    @classmethod
    def open(
        cls, settings: Settings, on_batch: Callable[[int], None] | None = None
    ) -> AnswerEngine:
        """Load the servable, open its collection (it must exist and match), start the worker."""
        if settings.torch_threads:
            torch.set_num_threads(settings.torch_threads)
        servable = load_servable(settings.model_path, settings.device, settings.quantize)
        store = open_store(settings, dim=servable.dim, model_id=servable.model_id, create=False)
        engine = cls(servable, store, settings, on_batch)
        engine.batcher.start()
        return engine

    def _encode(self, texts: list[str]):  # runs on the batcher's thread only
        return self.servable.encode(texts, batch_size=self._encode_batch_size)

    async def warm_up(self) -> None:
        """The first forward passes allocate and tune; pay for them before the first user does.

        A full batch also gives the batcher its first throughput estimate for admission control.
        """
        questions = [
            f"how do i change setting number {i} of my account?"
            for i in range(self._encode_batch_size)
        ]
        for _ in range(2):
            await self.batcher.encode(questions)

    async def ask(
        self, question: str, top_k: int, source: str | None, score_threshold: float | None
    ) -> list[Hit]:
        vector = (await self.batcher.encode([question]))[0]
        return await asyncio.to_thread(
            self.store.search, vector, top_k, source=source, score_threshold=score_threshold
        )

    async def add(self, entries: Sequence[FaqEntry]) -> list[str]:
        """Encode and upsert; when this returns the entries are durable and searchable."""
        encoded = pair_vectors(entries, await self.batcher.encode(entry_texts(entries)))
        return await asyncio.to_thread(self.store.upsert, encoded)

    async def get(self, entry_id: str) -> FaqEntry:
        entry = await asyncio.to_thread(self.store.get, entry_id)
        if entry is None:
            raise EntryNotFound(entry_id)
        return entry

    async def delete(self, entry_id: str) -> None:
        if not await asyncio.to_thread(self.store.delete, entry_id):
            raise EntryNotFound(entry_id)

    async def record_feedback(
        self,
        question: str,
        answer_id: str,
        helpful: bool,
        *,
        comment: str | None = None,
        conversation_id: str | None = None,
    ) -> FeedbackEvent:
        """Keep a verdict on an answer; when this returns it is durable. EntryNotFound when no
        entry has `answer_id`."""
        await self.get(answer_id)
        event = FeedbackEvent(
            question=question,
            answer_id=answer_id,
            helpful=helpful,
            model_id=self.servable.model_id,
            comment=comment,
            conversation_id=conversation_id,
        )
        await asyncio.to_thread(self.feedback_log.append, event)
        return event

    async def check_ready(self) -> None:
        """Raises StoreUnavailable when the store does not answer."""
        await asyncio.to_thread(self.store.ping)

    def close(self) -> None:
        self.batcher.stop()
        self.store.close()
