"""The answer engine: servable + collection version + batcher, with no HTTP in it.

The app's lifespan opens it, runs its watcher and closes it; routes only call its methods.

The engine serves one *generation* at a time: a servable and the collection version its vectors
are in, always used together. The watcher follows the live version: when `faq-index` switches
to a new one, the engine opens it (loading the servable from its configured path when the new
version was built by another one), carries over entries added through the API meanwhile, and
swaps generations between two requests. A collection without any version yet gets an empty
one, so that a FAQ can be filled through the API alone. A store that goes away makes requests
fail fast with StoreUnavailable (503) instead of each waiting for the timeout, and the watcher
reconnects when it is back; no restart is needed, not even when the store was down at startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import numpy as np

from faq_core.answering import Answer, AskResult, Confidence
from faq_core.confidence import DEPTH, decide
from faq_core.encoding import encoder_for, entry_texts, pair_vectors
from faq_core.entries import (
    MAX_QUESTIONS,
    ORIGIN_KEY,
    RUNTIME_ORIGIN,
    FaqEntry,
    Phrasing,
    question_key,
)
from faq_core.errors import (
    EntryNotFound,
    FaqQuestionKept,
    ModelMismatch,
    Overloaded,
    PhrasingNotFound,
    StorageFull,
    StoreUnavailable,
    TooManyQuestions,
)
from faq_core.feedback import FeedbackEvent
from faq_core.reviews import REJECTIONS_LOG, REVIEWS_LOG, Rejection, Review, Verdict
from faq_core.servable import Servable
from faq_core.settings import Settings
from faq_core.store import (
    AnswerStore,
    Backend,
    SearchRequest,
    layout_for,
    open_backend,
)
from faq_core.store.carry import Encoder, carry_runtime_entries
from faq_core.store.export import export_stream, header_for
from faq_core.suggestions import Suggestion
from faq_core.unanswered import UNANSWERED_LOG, Group, UnansweredQuestion
from service import heap
from service.batch_policy import BatchPolicy
from service.batcher import BatchStep, EncodeBatcher
from service.breaker import StoreBreaker
from service.calibration_book import CalibrationBook
from service.cpu_threads import ThreadPolicy, configure_process, load_on_one_thread
from service.suggestion_book import SuggestionBook, chosen, find
from service.unanswered_book import UnansweredBook

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
# Generation ids: the batcher encodes the jobs of one generation together. 0 is the loaded
# servable's before any generation is open.
_generation_ids = itertools.count(1)


@dataclass(eq=False)
class Generation:
    """A servable and the collection version built by it."""

    servable: Servable
    version: str
    store: AnswerStore
    id: int = field(default_factory=lambda: next(_generation_ids))
    search: BatchStep | None = None  # the store's searches, run by the batcher after encoding
    confidence: Confidence = field(init=False)
    users: int = 0  # requests using it now; a retired generation closes when the last one ends
    writers: int = 0
    written: bool = False  # since the store was last maintained (AnswerStore.maintain)
    retired: bool = False

    def __post_init__(self) -> None:
        self.confidence = Confidence.of_servable(self.servable)


class AnswerEngine:
    """Answers questions and keeps the FAQ; every blocking call runs off the event loop."""

    def __init__(
        self,
        servable: Servable,
        settings: Settings,
        backend: Backend,
        on_batch: Callable[[int], None] | None = None,
        on_generation: Callable[[Generation], None] | None = None,
        on_record: Callable[[str, int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.catalog = backend.catalog
        self._loaded = servable
        self._generation: Generation | None = None
        self._on_generation = on_generation
        self.breaker = StoreBreaker(settings.store_retry_s)
        threads = ThreadPolicy.of(settings, servable.device)
        policy = BatchPolicy(
            max_batch=settings.max_batch_size,
            max_wait_s=settings.max_wait_ms / 1000,
            workers=threads.workers,
            linger_s=settings.batch_linger_ms / 1000,
        )
        self.batcher = EncodeBatcher(
            self._encode, policy, threads, max_queue=settings.max_queue, on_batch=on_batch
        )
        self._refused_version: str | None = None
        self._phrasings_lock = asyncio.Lock()
        self.created_empty = False  # this process created the collection's first version
        self.unanswered = UnansweredBook(
            backend.record_log(UNANSWERED_LOG, UnansweredQuestion), settings, on_record
        )
        reviews = backend.record_log(REVIEWS_LOG, Review)
        self.suggestion_book = SuggestionBook(
            reviews, backend.record_log(REJECTIONS_LOG, Rejection), settings
        )
        self.calibration = CalibrationBook(reviews, settings)
        self._calibrated_at = 0.0
        self._refitting: asyncio.Task[None] | None = None
        self._refit_again = False

    @classmethod
    def open(
        cls,
        settings: Settings,
        on_batch: Callable[[int], None] | None = None,
        on_generation: Callable[[Generation], None] | None = None,
        on_record: Callable[[str, int], None] | None = None,
    ) -> AnswerEngine:
        """Load the servable, start the worker and open the live version, which must have been
        built by this servable (an empty one is created when there is none). An unreachable
        store is not fatal: the watcher connects later."""
        configure_process(settings)
        servable = load_on_one_thread(settings)
        engine = cls(servable, settings, open_backend(settings), on_batch, on_generation, on_record)
        engine.batcher.start()
        engine.unanswered.start()
        try:
            engine._connect()
        except (StoreUnavailable, StorageFull) as exc:  # a collection to create on a full disk
            engine.breaker.failed(exc)
            log.warning("the store is unavailable, serving 503 until it is back: %s", exc)
        except Exception:
            engine.close()
            raise
        refusal = engine.backend.write_refusal()
        if refusal is not None:
            log.warning("%s (serving reads)", refusal)
        return engine

    @property
    def servable(self) -> Servable:
        """The servable answering questions now."""
        return self._generation.servable if self._generation else self._loaded

    def _encode_now(self, texts: list[str]) -> Awaitable[np.ndarray]:
        """`texts` encoded by the servable answering now (the batcher's job, awaitable)."""
        generation = self._generation
        if generation is None:
            return self.batcher.encode(texts, self._loaded, 0)
        return self.batcher.encode(texts, generation.servable, generation.id)

    def servable_point(self) -> float:
        """The servable's own operating point (of the generation answering now)."""
        generation = self._generation
        return (
            generation.confidence if generation else Confidence.of_servable(self._loaded)
        ).min_confidence

    @property
    def version(self) -> str | None:
        return self._generation.version if self._generation else None

    @property
    def store(self) -> AnswerStore | None:
        """The collection version answering now; None until the store is reached."""
        return self._generation.store if self._generation else None

    # ---- generations ---------------------------------------------------------------------------

    def _connect(self) -> None:
        """Open the live version for the loaded servable (blocking)."""
        layout = layout_for(self.settings, dim=self._loaded.dim, model_id=self._loaded.model_id)
        version, store, created = self.catalog.open_or_create_live(layout)
        if created:
            self.created_empty = True
            # A warning, so that a mistyped store path or collection shows in the log.
            log.warning(
                "collection %r had no version in the %s store at %s: created an empty one (%s) "
                "for servable %s; fill it with POST /answers or faq-index",
                self.settings.collection,
                self.backend.kind,
                self.backend.location,
                version,
                self._loaded.model_id,
            )
        self._install(Generation(self._loaded, version, store))

    def _install(self, generation: Generation) -> None:
        # One step object per generation: the batcher searches the jobs that share it together.
        generation.search = functools.partial(
            self._search_batch, generation.store, generation.confidence
        )
        self._generation = generation
        self._loaded = generation.servable  # not the startup one for ever: it may be replaced
        self.breaker.succeeded()
        if self._on_generation is not None:
            self._on_generation(generation)
        log.info(
            "serving version %s of collection %r (%s store at %s) with servable %s",
            generation.version,
            self.settings.collection,
            self.backend.kind,
            self.backend.location,
            generation.servable.model_id,
        )

    @contextmanager
    def _using(self, *, write: bool = False) -> Iterator[Generation]:
        generation = self._generation
        if generation is None:
            raise StoreUnavailable(f"not connected to the store yet: {self.breaker.reason}")
        generation.users += 1
        generation.writers += write
        try:
            yield generation
        finally:
            generation.users -= 1
            generation.writers -= write
            if generation.retired and generation.users == 0:
                generation.store.close()

    async def _store_call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        self.breaker.check()
        return await asyncio.to_thread(lambda: self.breaker.call(fn, *args, **kwargs))

    async def watch(self) -> None:
        """Reconnect when the store comes back, and follow switches to a new live version."""
        while True:
            await asyncio.sleep(self.settings.watch_interval_s)
            try:
                await self.check_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the watcher must outlive any single failure
                log.exception("checking the live collection version failed")

    async def check_once(self) -> None:
        """One round of the watcher: connect, or follow a new live version."""
        if self._generation is None:
            try:
                await asyncio.to_thread(self._connect)
            except (StoreUnavailable, StorageFull) as exc:
                self.breaker.failed(exc)
            return
        try:
            live = await asyncio.to_thread(self.catalog.live)
            await asyncio.to_thread(self._generation.store.ping)
        except StoreUnavailable as exc:
            self.breaker.failed(exc)
            return
        self.breaker.succeeded()
        await self._maintain()
        if time.monotonic() - self._calibrated_at >= self.settings.calibration_interval_s:
            await self.calibrate()
        if live is None or live in (self._generation.version, self._refused_version):
            return
        # Settled once _follow's references to the old servable are gone, so that it is collected.
        if await self._follow(live):
            heap.settle()

    async def _maintain(self) -> None:
        """Let the store fold in the writes since the last round, once per round at most: a
        flush of the embedded store holds up requests for a few milliseconds."""
        with self._using(write=True) as generation:
            if not generation.written:
                return
            generation.written = False  # writes from now on count for the next round
            try:
                await asyncio.to_thread(generation.store.maintain)
            except StorageFull as exc:
                # What the flush could not fold in, the write-ahead log holds; the next round
                # tries again, and the disk's state is on /readyz and /metrics.
                generation.written = True
                log.debug("flushing the store waits for disk space: %s", exc)
            except Exception:
                generation.written = True  # the next round tries again
                raise

    async def _follow(self, version: str) -> bool:
        """Switch to `version`: open it, carry runtime entries over, swap, retire the old one.
        True when it came with another servable.

        Installing the new generation is the point of no return. A failure (or cancellation)
        before it closes the new version's store, and with it the embedded store's lock: the
        old generation serves on and the next round tries again. A failure after it leaves the
        new generation serving, and the old one is retired all the same: closed now, or when
        its last request ends.
        """
        old = self._generation
        assert old is not None
        # Shielded: a thread cannot be stopped, so a cancelled follow waits for it to finish
        # and closes what it opened, rather than leaving a store (and its lock) open.
        opening = asyncio.ensure_future(asyncio.to_thread(self._open_generation, version, old))
        try:
            opened = await asyncio.shield(opening)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                unused = await opening
                if unused is not None:
                    unused[0].store.close()
            raise
        if opened is None:
            return False
        new, encode = opened
        self._install(new)
        try:
            while old.writers:
                await asyncio.sleep(0.01)
            # Again, for what the writes that were still going to the old version added.
            await asyncio.to_thread(carry_runtime_entries, old.store, new.store, encode)
            new.written = True  # what was carried
        finally:
            old.retired = True
            if old.users == 0:
                await asyncio.to_thread(old.store.close)
        return new.servable is not old.servable

    def _open_generation(
        self, version: str, old: Generation
    ) -> tuple[Generation, Encoder | None] | None:
        """`version`'s store opened (blocking), with the runtime entries `old` holds carried
        over, so that they are searchable as soon as it is installed; and how to carry more
        (None: copy their vectors, both built by one servable). None when `version` was built
        by a servable the configured one is not. On any failure the store is closed again."""
        store = self.catalog.store(version)
        try:
            servable = old.servable
            if (store.metadata() or {}).get("model_id") != servable.model_id:
                servable = load_on_one_thread(self.settings)
            layout = layout_for(self.settings, dim=servable.dim, model_id=servable.model_id)
            try:
                store.open(layout, create=False)
            except ModelMismatch as exc:
                store.close()
                self._refused_version = version
                log.error("not following the new live version %s: %s", version, exc)
                return None
            store.ping()  # the embedded shard loads here, so that a lock held elsewhere shows
            encode = (
                None
                if servable is old.servable
                else encoder_for(servable, self.settings.encode_batch_size)
            )
            carry_runtime_entries(old.store, store, encode)
        except BaseException:
            store.close()
            raise
        return Generation(servable, version, store), encode

    # ---- requests ------------------------------------------------------------------------------

    def _encode(self, servable: Servable, texts: list[str], threads: int) -> np.ndarray:
        """Runs on the batcher's worker threads only, on as many threads as the batcher says."""
        ThreadPolicy.use(threads)  # this thread's
        return servable.encode(texts, batch_size=self.settings.max_batch_size)

    async def warm_up(self) -> None:
        """The first forward passes allocate and tune; pay for them before the first user does.

        A full batch also gives the batcher its first throughput estimate for admission control.
        """
        questions = [
            f"how do i change setting number {i} of my account?"
            for i in range(self.batcher.max_batch)
        ]
        for _ in range(2):
            await self._encode_now(questions)

    def _search_batch(
        self,
        store: AnswerStore,
        confidence: Confidence,
        jobs: list[tuple[np.ndarray, dict[str, Any]]],
    ) -> list[tuple[np.ndarray, list[Answer]]]:
        """Runs on an encode worker right after a batch of questions is encoded: their searches
        go to the store as one batch, with no hop to another thread; then each question's
        entries get their confidences."""
        requests = [SearchRequest(vectors[0], **params) for vectors, params in jobs]
        found = self.breaker.call(store.search_each, requests)
        return [
            (vectors[0], confidence.rank(hits))
            for (vectors, _), hits in zip(jobs, found, strict=True)
        ]

    async def ask(
        self,
        question: str,
        top_k: int,
        source: str | None,
        score_threshold: float | None,
        min_confidence: float | None = None,
        *,
        record: bool = True,
    ) -> AskResult:
        """The best `top_k` entries with their confidences, and whether they answer the
        question at `min_confidence` (default: FAQ_MIN_CONFIDENCE, else the servable's
        operating point, or the one calibrated on this FAQ's reviewed questions when there is
        one). `score_threshold` only drops entries from the answers: the decision
        is made on everything the search found. A question not answered is kept in the
        unanswered log (off the request path; not when `record` is false)."""
        with self._using() as generation:
            self.breaker.check()  # no encoding for a question that cannot be answered
            # Searched at least DEPTH deep, with no threshold: the confidence model reads the
            # scores of the top DEPTH entries.
            vector, ranked = await self.batcher.encode(
                [question],
                generation.servable,
                generation.id,
                then=generation.search,
                arg={"top_k": max(top_k, DEPTH), "source": source},
            )
            confidence = generation.confidence
            model_id = generation.servable.model_id
        point = confidence.operating_point(self._configured_point(min_confidence))
        decision = decide([a.confidence for a in ranked], point)
        if record and decision.reason is not None:
            self.unanswered.not_answered(
                question, decision.reason, ranked, source, model_id, vector
            )
        answers = [
            a for a in ranked[:top_k] if score_threshold is None or a.hit.score >= score_threshold
        ]
        return AskResult(answers, decision, point)

    def _configured_point(self, requested: float | None) -> float | None:
        """The operating point asked for: the request's, else FAQ_MIN_CONFIDENCE, else the one
        calibrated on this FAQ's reviewed questions; None leaves the servable's own."""
        for point in (requested, self.settings.min_confidence, self.calibration.point()):
            if point is not None:
                return point
        return None

    async def add(self, entries: Sequence[FaqEntry]) -> list[str]:
        """Encode and upsert; when this returns the entries are durable and searchable."""
        marked = [replace(e, extra={**e.extra, ORIGIN_KEY: RUNTIME_ORIGIN}) for e in entries]
        with self._using(write=True) as generation:
            self.breaker.check()
            self.backend.check_writes()  # no encoding for entries the store cannot take
            encoding = generation.servable.answer_encoding
            texts = entry_texts(marked, encoding)
            vectors = await self.batcher.encode(texts, generation.servable, generation.id)
            encoded = pair_vectors(marked, vectors, encoding)
            ids = await self._store_call(generation.store.upsert, encoded)
            generation.written = True
            return ids

    async def add_questions(
        self,
        entry_id: str,
        questions: Sequence[str],
        *,
        reviewed: Verdict | None = None,
        suggested: str | None = None,
    ) -> FaqEntry:
        """Add alternate phrasings to an entry; when this returns they are durable and matched.
        EntryNotFound for an unknown entry, TooManyQuestions past MAX_QUESTIONS.

        With `reviewed` (`attached`, or `written` for an entry written for them), the questions
        are users' questions a person decided: a review of each is kept, which recalibrates the
        operating point (faq_core.reviews). Without it, those of the questions that users asked
        (the unanswered log and the feedback hold them) are reviews all the same: `attached`."""
        entry = await self._add_phrasings(entry_id, questions)
        if reviewed is None:
            asked = await self._asked_by_users(questions)
            if asked:
                await self._review(asked, "attached", entry_id, suggested)
        else:
            await self._review(questions, reviewed, entry_id, suggested)
        return entry

    async def _asked_by_users(self, questions: Sequence[str]) -> list[str]:
        """Those of `questions` that users asked: in the unanswered log or the feedback log."""
        unanswered = await self._store_call(self.unanswered.records.records)
        feedback = await self._store_call(self.backend.feedback_log.records)
        asked = {question_key(r.question) for r in unanswered}
        asked |= {question_key(e.question) for e in feedback}
        return [q for q in questions if question_key(q) in asked]

    async def _add_phrasings(self, entry_id: str, questions: Sequence[str]) -> FaqEntry:
        with self._using(write=True) as generation:
            self.breaker.check()
            self.backend.check_writes()
            # One entry's phrasings are read, counted and written by one request at a time.
            async with self._phrasings_lock:
                entry = await self._store_call(generation.store.get, entry_id)
                if entry is None:
                    raise EntryNotFound(entry_id)
                known = {question_key(q) for q in entry.questions}
                texts = []
                for question in questions:
                    if question_key(question) not in known:
                        known.add(question_key(question))
                        texts.append(question)
                if len(entry.questions) + len(texts) > MAX_QUESTIONS:
                    raise TooManyQuestions(
                        entry_id, len(entry.questions), len(texts), MAX_QUESTIONS
                    )
                if not texts:
                    return entry
                vectors = await self.batcher.encode(texts, generation.servable, generation.id)
                added = [Phrasing(t, added=True) for t in texts]
                await self._store_call(
                    generation.store.add_phrasings, entry, list(zip(added, vectors, strict=True))
                )
                generation.written = True
        return entry.with_phrasings([*entry.phrasings, *added])

    async def delete_question(self, entry_id: str, question: str) -> None:
        """Remove an alternate phrasing of an entry. EntryNotFound, PhrasingNotFound, or
        FaqQuestionKept for the entry's own FAQ question."""
        with self._using(write=True) as generation:
            entry = await self._store_call(generation.store.get, entry_id)
            if entry is None:
                raise EntryNotFound(entry_id)
            if entry.question is not None and question_key(question) == question_key(
                entry.question
            ):
                raise FaqQuestionKept(entry_id, entry.question)
            if not await self._store_call(generation.store.delete_phrasing, entry_id, question):
                raise PhrasingNotFound(entry_id, question)
            generation.written = True

    async def _review(
        self, questions: Sequence[str], verdict: Verdict, entry_id: str, suggested: str | None
    ) -> None:
        """Keep a person's decision on users' questions, and refit the operating point."""
        self.backend.check_writes()
        vectors = await self._encode_now(list(questions))
        await self.suggestion_book.record(
            questions,
            verdict,
            entry_id,
            suggested=suggested,
            model_id=self.servable.model_id,
            vectors=vectors,
        )
        self._refit_soon()

    async def suggestions(self) -> tuple[list[Suggestion], dict[str, FaqEntry]]:
        """The open suggestions from traffic, biggest first, and the entries they are for
        (SuggestionBook.suggestions)."""
        unanswered = await self._store_call(self.unanswered.records.records)
        feedback = await self._store_call(self.backend.feedback_log.records)

        async def entries(ids: list[str]) -> dict[str, FaqEntry]:
            with self._using() as generation:
                return await self._store_call(generation.store.get_many, ids)

        return await self.suggestion_book.suggestions(
            unanswered,
            feedback,
            model_id=self.servable.model_id,
            encode=self._encode_now,
            entries=entries,
        )

    async def accept_suggestion(
        self, suggestion_id: str, entry_id: str | None, questions: Sequence[str] | None
    ) -> tuple[FaqEntry, list[str]]:
        """Attach the suggestion's questions (those named, else all) to its entry (or to
        `entry_id`); returns the entry and the questions attached."""
        suggestion = find((await self.suggestions())[0], suggestion_id)
        attached = chosen(suggestion, questions)
        target = entry_id or suggestion.entry_id
        entry = await self.add_questions(
            target, attached, reviewed="attached", suggested=suggestion.entry_id
        )
        return entry, attached

    async def reject_suggestion(
        self, suggestion_id: str, questions: Sequence[str] | None
    ) -> list[str]:
        """Reject the suggestion's questions (those named, else all) for its entry: never
        proposed for it again."""
        suggestion = find((await self.suggestions())[0], suggestion_id)
        rejected = chosen(suggestion, questions)
        await self._review(rejected, "rejected", suggestion.entry_id, suggestion.entry_id)
        return rejected

    def _refit_soon(self) -> None:
        """Refit the operating point in the background (a decision was just made). A burst of
        decisions costs two refits at most: the one running, and one after it for what came
        meanwhile."""
        self._refit_again = True
        if self._refitting is None or self._refitting.done():
            self._refitting = asyncio.ensure_future(self._refit_while_asked())

    async def _refit_while_asked(self) -> None:
        while self._refit_again:
            self._refit_again = False
            try:
                await self.calibrate()
            except Exception:  # the next decision or the watcher tries again
                log.exception("refitting the operating point failed")

    async def calibrate(self) -> None:
        """Refit the operating point on the reviews, when they or the generation changed."""
        self._calibrated_at = time.monotonic()
        try:
            with self._using() as generation:
                await self.calibration.refit(
                    generation.id,
                    generation.store,
                    generation.confidence,
                    generation.servable.model_id,
                    self._encode_now,
                )
        except (StoreUnavailable, Overloaded) as exc:
            log.info("calibration waits: %s", exc)

    async def get(self, entry_id: str) -> FaqEntry:
        with self._using() as generation:
            entry = await self._store_call(generation.store.get, entry_id)
        if entry is None:
            raise EntryNotFound(entry_id)
        return entry

    async def page(
        self, limit: int, offset: str | None, source: str | None
    ) -> tuple[list[FaqEntry], str | None]:
        """A page of the live version's entries and the offset of the next (AnswerStore.page).
        Offsets are point ids, the same in every version: a listing survives a re-index."""
        with self._using() as generation:
            return await self._store_call(generation.store.page, limit, offset, source=source)

    async def count_by_source(self) -> tuple[int, dict[str, int]]:
        """How many entries the live version holds, and how many each source has."""
        with self._using() as generation:
            total = await self._store_call(generation.store.count)
            by_source = await self._store_call(generation.store.count_by_source)
        return total, by_source

    async def entry_count(self) -> int | None:
        """How many entries the live version holds; None while the store is unavailable."""
        try:
            with self._using() as generation:
                return await self._store_call(generation.store.count)
        except StoreUnavailable:
            return None

    async def delete(self, entry_id: str) -> None:
        with self._using(write=True) as generation:
            if not await self._store_call(generation.store.delete, entry_id):
                raise EntryNotFound(entry_id)
            generation.written = True

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
        entry = await self.get(answer_id)
        # What the service answers now, as the chatbot's user saw it moments ago: an entry
        # chosen that was not given is a suggestion (faq_core.suggestions).
        asked = await self.ask(question, DEPTH, None, None, record=False)
        event = FeedbackEvent(
            question=question,
            answer_id=answer_id,
            helpful=helpful,
            model_id=self.servable.model_id,
            answered=asked.decision.answered,
            reason=asked.decision.reason,
            ranked=tuple(a.hit.entry.entry_id for a in asked.answers),
            comment=comment,
            conversation_id=conversation_id,
        )
        await asyncio.to_thread(self.backend.feedback_log.append, event)
        if not helpful:
            self.unanswered.unhelpful(question, answer_id, entry.source, self.servable.model_id)
        return event

    async def unanswered_groups(
        self, since: datetime | None, source: str | None, limit: int
    ) -> list[Group]:
        """The unanswered questions, grouped, open groups first (UnansweredBook.groups); a
        group is resolved when the servable answering now answers its most frequent question."""
        records = await self._store_call(self.unanswered.records.records)

        async def answered(question: str) -> bool:
            result = await self.ask(question, 1, source, None, record=False)
            return result.decision.answered

        return await self.unanswered.groups(
            records,
            since,
            source,
            limit,
            model_id=self.servable.model_id,
            encode=self._encode_now,
            answered=answered,
        )

    async def clear_unanswered(self) -> None:
        await self._store_call(self.unanswered.records.clear)

    async def export(self, *, vectors: bool) -> AsyncGenerator[bytes, None]:
        """The live version and the record logs as faq-store exports them
        (faq_core.store.export), a chunk of whole lines at a time, read on worker threads. The
        embedded store is this process's alone, so this is how it is exported while serving.
        The generation stays open until the last chunk, even if a re-index retires it."""
        with self._using() as generation:
            header = await self._store_call(
                header_for, self.backend, generation.store, vectors=vectors
            )
            chunks = export_stream(self.backend, generation.store, header)
            while True:
                chunk = await self._store_call(next, chunks, None)
                if chunk is None:
                    return
                yield chunk

    async def check_ready(self) -> None:
        """Raises StoreUnavailable when the store does not answer."""
        with self._using() as generation:
            await self._store_call(generation.store.ping)

    def close(self) -> None:
        self.unanswered.stop()
        self.batcher.stop()
        try:
            if self._generation is not None:
                self._generation.store.close()
        except StoreUnavailable as exc:  # what it could not flush, its write-ahead log holds
            log.warning("closing the store: %s", exc)
        finally:
            self.backend.close()
