"""The answer store: one interface, two backends (Qdrant Edge embedded, qdrant-client server).

Each entry is one point with two named vectors, its answer and (when it has one) its own FAQ
question. Each alternate phrasing of its question is a point of its own with a question vector
only, naming its entry (`PHRASING_OF`). A user's question is matched against every answer and
every question; each entry comes back once, with its best match and which text that was.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import numpy as np

from faq_core.entries import (
    MAX_QUESTIONS,
    ORIGIN_KEY,
    RUNTIME_ORIGIN,
    FaqEntry,
    Phrasing,
    phrasing_point_id,
    point_id,
    question_key,
)
from faq_core.errors import CollectionMissing, ModelMismatch

ANSWER: Final = "answer"
QUESTION: Final = "question"
VECTOR_NAMES = (ANSWER, QUESTION)
# What matched a question, beside ANSWER and QUESTION (the entry's own FAQ question).
ALTERNATE: Final = "alternate"
Matched = Literal["answer", "question", "alternate"]
# Payload keys of a phrasing point: its entry's public id, its text, its place among the entry's
# phrasings. It also keeps its entry's `source` (for the source filter) and, when it was added
# after the entry, `origin`.
PHRASING_OF = "phrasing_of"
PHRASING_TEXT = "text"
PHRASING_SEQ = "seq"
# A quantized collection maps the central 99% of its vector values onto int8 (both backends).
INT8_QUANTILE = 0.99
# Below this many KB of vectors a search goes over every point instead of the HNSW graph (the
# engine's planner; both backends). A named vector that some points lack counts as filtered:
# with the engine's default of 10,000, the answer vector of the cloud FAQ with ten phrasings an
# entry (8,500 of 93,500 points) was searched point by point, twice as slow (docs/performance.md).
FULL_SCAN_KB = 1000
# The question vector is searched up to this many times `top_k` deep, since an entry's phrasings
# crowd its neighbours out: 1 + the collection's phrasings per entry, at most this; deeper again
# when that did not find `top_k` entries. A collection without phrasings is searched `top_k`
# deep, as before entries had them. With ten phrasings an entry, 8 found top_k entries at once
# where 5 needed a second search for some question of almost every batch (docs/performance.md).
QUESTION_DEPTH = 8
# How often a store counts its entries and phrasings again for that depth: a count it has not
# made yet (another replica's phrasings) costs only a second, deeper search.
SHAPE_TTL_S = 10.0
# Phrasings read at once (a page of entries' phrasings, a carry).
PHRASING_PAGE = 1024


@dataclass(frozen=True)
class CollectionLayout:
    """What a collection must look like for a given servable."""

    dim: int
    model_id: str
    hnsw_m: int = 16
    hnsw_ef_construct: int = 100
    quantization: Literal["none", "int8"] = "int8"

    def metadata(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "dim": self.dim}


@dataclass(frozen=True)
class SearchTuning:
    """How a search trades exactness for speed; None leaves the backend's default."""

    hnsw_ef: int | None = None
    # In a quantized collection the HNSW search ranks by the int8 vectors, and this many times
    # top k of its candidates are rescored with the float32 ones.
    oversampling: float | None = None


@dataclass(frozen=True)
class EncodedEntry:
    """An entry with its vectors, ready to upsert: one for its answer, one for its FAQ question
    when it has one, and one for each of its phrasings (`entry.phrasings`, in order)."""

    entry: FaqEntry
    answer_vector: np.ndarray
    question_vector: np.ndarray | None
    phrasing_vectors: tuple[np.ndarray, ...] = ()

    def vectors(self) -> dict[str, Any]:
        vectors: dict[str, Any] = {ANSWER: self.answer_vector.tolist()}
        if self.question_vector is not None:
            vectors[QUESTION] = self.question_vector.tolist()
        return vectors

    def points(self) -> list[StoredPoint]:
        """The entry's point and its phrasings' points."""
        entry = self.entry
        own = StoredPoint(point_id(entry.entry_id), entry.payload(), self.vectors())
        phrasings = zip(entry.phrasings, self.phrasing_vectors, strict=True)
        return [own, *phrasing_points(entry, phrasings)]


@dataclass(frozen=True)
class StoredPoint:
    """A point as the backends write and read it: its id, payload and named vectors (empty
    when read without them)."""

    id: str
    payload: dict[str, Any]
    vectors: dict[str, Any] = field(default_factory=dict)


def phrasing_points(
    entry: FaqEntry, encoded: Iterable[tuple[Phrasing, np.ndarray]], seq: int = 1
) -> list[StoredPoint]:
    """The points of `entry`'s phrasings from (phrasing, vector) pairs, numbered from `seq` on in
    the order given."""
    points = []
    for n, (phrasing, vector) in enumerate(encoded, start=seq):
        payload: dict[str, Any] = {
            PHRASING_OF: entry.entry_id,
            PHRASING_TEXT: phrasing.text,
            PHRASING_SEQ: n,
            "source": entry.source,
        }
        if phrasing.added:
            payload[ORIGIN_KEY] = RUNTIME_ORIGIN
        points.append(
            StoredPoint(
                phrasing_point_id(entry.entry_id, phrasing.text),
                payload,
                {QUESTION: np.asarray(vector).tolist()},
            )
        )
    return points


def phrasing_of(payload: dict[str, Any]) -> Phrasing:
    return Phrasing(payload[PHRASING_TEXT], payload.get(ORIGIN_KEY) == RUNTIME_ORIGIN)


@dataclass(frozen=True)
class PointFilter:
    """Which points a backend call is about, in terms each backend translates into its own
    filter. Entry points are those holding an answer vector; phrasing points hold none."""

    kind: Literal["entries", "phrasings"] | None = None
    source: str | None = None
    of_entries: tuple[str, ...] = ()  # phrasings of these entries only
    added: bool | None = None  # phrasings added after their entry only (True), or none of those
    not_ids: tuple[str, ...] = ()  # these points left out


ENTRIES = PointFilter(kind="entries")


@dataclass(frozen=True)
class Hit:
    """One answer to a question: the entry, its best cosine score, what matched (its answer, its
    FAQ question or one of its alternate phrasings) and that question's text (None for the
    answer), and each vector's own best score where the search found the entry by it."""

    entry: FaqEntry
    score: float
    matched: Matched
    scores: dict[str, float] = field(default_factory=dict, compare=False)
    matched_text: str | None = None


@dataclass(frozen=True)
class VectorQuery:
    """One nearest-neighbour query against one named vector, as the backends receive it."""

    vector: list[float]
    using: str
    limit: int
    where: PointFilter
    score_threshold: float | None


@dataclass(frozen=True)
class SearchRequest:
    """One question's search: its vector and the parameters of `/ask`."""

    vector: np.ndarray
    top_k: int
    source: str | None = None
    score_threshold: float | None = None
    # Points left out of the search: a reviewed question's own phrasing, to ask it as if it
    # were new (faq_core.calibration).
    not_ids: tuple[str, ...] = ()


@dataclass
class _Found:
    """What one search found of one entry: its payload (None while known only by a phrasing),
    its best score by each vector, and its best question's text and kind."""

    payload: dict[str, Any] | None = None
    scores: dict[str, float] = field(default_factory=dict)
    question: tuple[Matched, str] | None = None

    def hit(self) -> Hit:
        assert self.payload is not None
        entry = FaqEntry.from_payload(self.payload)
        matched = max(self.scores, key=self.scores.__getitem__)
        kind: Matched
        text: str | None
        if matched == ANSWER:
            kind, text = ANSWER, None  # the answer itself: the hit carries it already
        else:
            assert self.question is not None
            kind, text = self.question
        return Hit(entry, self.scores[matched], kind, self.scores, text)


def _merge(
    answers: list[tuple[dict[str, Any], float]], questions: list[tuple[dict[str, Any], float]]
) -> dict[str, _Found]:
    """One question's finds by entry id, best question match first."""
    found: dict[str, _Found] = {}
    for payload, score in answers:
        entry = found.setdefault(payload["id"], _Found())
        entry.payload = payload
        entry.scores[ANSWER] = float(score)
    for payload, score in questions:  # best first: the first of an entry is its best
        of = payload.get(PHRASING_OF)
        entry = found.setdefault(payload["id"] if of is None else of, _Found())
        if of is None:
            entry.payload = payload
        if QUESTION in entry.scores:
            continue
        entry.scores[QUESTION] = float(score)
        if of is None:
            entry.question = (QUESTION, payload.get("question") or "")
        else:
            entry.question = (ALTERNATE, payload[PHRASING_TEXT])
    return found


def _entries_among(points: list[tuple[dict[str, Any], float]]) -> int:
    return len({p.get(PHRASING_OF) or p["id"] for p, _ in points})


class AnswerStore(ABC):
    """A collection of FAQ entries. Backends implement the primitives below the line."""

    name: str

    def open(self, layout: CollectionLayout, *, create: bool) -> None:
        """Make sure the collection exists and was built by the servable `layout` names.

        With `create`, a missing collection is created; else CollectionMissing is raised.
        """
        metadata = self._read_metadata()
        if metadata is None:
            if not create:
                raise CollectionMissing(
                    f"collection {self.name!r} does not exist: run faq-index first"
                )
            self._create(layout)
            return
        if metadata.get("model_id") != layout.model_id or metadata.get("dim") != layout.dim:
            raise ModelMismatch(
                f"collection {self.name!r} was built by servable {metadata.get('model_id')!r}, "
                f"not by the loaded servable {layout.model_id!r}: re-index with faq-index"
            )

    def metadata(self) -> dict[str, Any] | None:
        """Which servable built the collection (`model_id`, `dim`); None when it does not exist."""
        return self._read_metadata()

    # ---- writing ------------------------------------------------------------------------------

    def upsert(self, encoded: Sequence[EncodedEntry]) -> list[str]:
        """Insert or replace entries (same id, same point) with the phrasings they come with;
        returns their public ids. An entry's phrasings added after it (`add_phrasings`) stay,
        its other phrasings are those given now."""
        if not encoded:
            return []
        ids = tuple(item.entry.entry_id for item in encoded)
        before = {p.payload["id"]: p.payload for p in self._retrieve([point_id(i) for i in ids])}
        points = [point for item in encoded for point in item.points()]
        self._upsert(points)
        # Phrasings the entries came with before and do not now. Written after the new ones: a
        # crash in between leaves the old ones too, never an entry without what it was given.
        kept = tuple(p.id for p in points if PHRASING_OF in p.payload)
        self._delete_where(PointFilter("phrasings", of_entries=ids, added=False, not_ids=kept))
        for item in encoded:
            old = before.get(item.entry.entry_id)
            if old is not None and old.get("source") != item.entry.source:
                # The phrasings added after it name its source too, for the source filter.
                self._set_payload_where(
                    {"source": item.entry.source},
                    PointFilter("phrasings", of_entries=(item.entry.entry_id,)),
                )
        return list(ids)

    def add_phrasings(self, entry: FaqEntry, encoded: Sequence[tuple[Phrasing, np.ndarray]]) -> int:
        """Add phrasings to a stored entry (`entry` as `get` returned it, with its phrasings),
        after those it has; one it has already (`question_key`) changes nothing. Returns how
        many were new."""
        known = {question_key(q) for q in entry.questions}
        new = []
        for phrasing, vector in encoded:
            key = question_key(phrasing.text)
            if key not in known:
                known.add(key)
                new.append((phrasing, vector))
        if new:
            # Numbered after every phrasing the entry came with (1, 2, ...) and in time order.
            self._upsert(phrasing_points(entry, new, seq=time.time_ns() // 1000))
        return len(new)

    def delete_phrasing(self, entry_id: str, text: str) -> bool:
        """Remove one alternate phrasing of an entry; False when it has none such."""
        pid = phrasing_point_id(entry_id, text)
        if not self._retrieve([pid]):
            return False
        self._delete([pid])
        return True

    def delete(self, entry_id: str) -> bool:
        """Remove an entry and its phrasings; False when there was none with that id."""
        pid = point_id(entry_id)
        if not self._retrieve([pid]):
            return False
        # Its phrasings first: a crash in between leaves the entry, which a retry deletes, never
        # phrasings that would name an entry no longer there.
        self._delete_where(PointFilter("phrasings", of_entries=(entry_id,)))
        self._delete([pid])
        return True

    # ---- searching ----------------------------------------------------------------------------

    def search(
        self,
        vector: np.ndarray,
        top_k: int,
        *,
        source: str | None = None,
        score_threshold: float | None = None,
    ) -> list[Hit]:
        return self.search_each([SearchRequest(vector, top_k, source, score_threshold)])[0]

    def search_many(
        self,
        vectors: np.ndarray,
        top_k: int,
        *,
        source: str | None = None,
        score_threshold: float | None = None,
    ) -> list[list[Hit]]:
        """`search` for each row of `vectors`, with the same parameters."""
        return self.search_each(
            [SearchRequest(row, top_k, source, score_threshold) for row in vectors]
        )

    def search_each(self, requests: Sequence[SearchRequest]) -> list[list[Hit]]:
        """Each request's best `top_k` entries, each entry once with its best match, best score
        first; all of them in one call to the backend (one batch of HNSW queries, or one round
        trip to a server) unless an entry's phrasings filled a question search.

        The top k of the union of the per-vector top k entries is the exact top k by best score.
        The answer vector finds each entry once; the question vector finds an entry's every
        phrasing, so it is searched deeper, and deeper again until it found `top_k` entries or
        all there are.
        """
        depth = self._question_depth()
        queries = [
            VectorQuery(
                r.vector.tolist(),
                using,
                r.top_k * (depth if using == QUESTION else 1),
                PointFilter(source=r.source, not_ids=r.not_ids),
                r.score_threshold,
            )
            for r in requests
            for using in VECTOR_NAMES
        ]
        results = self._query_batch(queries)
        while True:
            short = [
                i
                for i in range(1, len(queries), 2)
                if len(results[i]) == queries[i].limit
                and _entries_among(results[i]) < requests[i // 2].top_k
                and queries[i].limit < requests[i // 2].top_k * MAX_QUESTIONS
            ]
            if not short:
                break
            for i in short:
                q = queries[i]
                queries[i] = replace(q, limit=q.limit * 4)
            for i, again in zip(short, self._query_batch([queries[i] for i in short]), strict=True):
                results[i] = again
        finds = [_merge(results[2 * i], results[2 * i + 1]) for i in range(len(requests))]
        # Entries found by a phrasing alone: their payloads, in one call for every request.
        unknown = {eid for found in finds for eid, f in found.items() if f.payload is None}
        if unknown:
            payloads = {
                p.payload["id"]: p.payload for p in self._retrieve([point_id(i) for i in unknown])
            }
            for found in finds:
                for eid, f in list(found.items()):
                    if f.payload is None:
                        f.payload = payloads.get(eid)
                        if f.payload is None:  # a phrasing whose entry is gone
                            del found[eid]
        return [
            sorted((f.hit() for f in found.values()), key=lambda hit: -hit.score)[: r.top_k]
            for found, r in zip(finds, requests, strict=True)
        ]

    _depth = 1
    _shape_at = -math.inf

    def _question_depth(self) -> int:
        """How many times top_k the question vector is searched (QUESTION_DEPTH)."""
        now = time.monotonic()
        if now - self._shape_at > SHAPE_TTL_S:
            per_entry = self._count(PointFilter("phrasings")) / max(1, self._count(ENTRIES))
            self._depth = 1 + min(QUESTION_DEPTH - 1, math.ceil(per_entry))
            self._shape_at = now
        return self._depth

    # ---- reading ------------------------------------------------------------------------------

    def entries(self) -> Iterator[FaqEntry]:
        """Every entry the collection holds, with its phrasings, in no particular order."""
        offset: Any = None
        while True:
            points, offset = self._scroll(offset, 512, ENTRIES)
            yield from self._with_phrasings([p.payload for p in points])
            if offset is None:
                return

    def page(
        self, limit: int, offset: str | None = None, *, source: str | None = None
    ) -> tuple[list[FaqEntry], str | None]:
        """Up to `limit` entries (of `source` only, when given) in the store's own stable order,
        with their phrasings, and the offset of the next page: None after the last. An offset
        is opaque (a point id): pass on what the previous page returned."""
        points, next_offset = self._scroll(offset, limit, PointFilter("entries", source=source))
        entries = self._with_phrasings([p.payload for p in points])
        return entries, None if next_offset is None else str(next_offset)

    def count_by_source(self, limit: int = 1000) -> dict[str, int]:
        """How many entries each source has, the `limit` biggest sources; entries without a
        source are not counted (`count` minus the sum)."""
        # Qdrant Edge keeps reporting a value whose last entry was deleted, with a count of 0.
        return {source: n for source, n in self._source_counts(limit).items() if n > 0}

    def get(self, entry_id: str) -> FaqEntry | None:
        return self.get_many([entry_id]).get(entry_id)

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, FaqEntry]:
        """The entries that exist among `entry_ids`, with their phrasings, by id."""
        payloads = [p.payload for p in self._retrieve([point_id(i) for i in entry_ids])]
        return {e.entry_id: e for e in self._with_phrasings(payloads)}

    def get_encoded(self, entry_ids: Sequence[str]) -> dict[str, EncodedEntry]:
        """Stored entries with their phrasings and vectors, by id: what a new version copies
        instead of encoding again when the servable did not change."""
        stored = self._retrieve([point_id(i) for i in entry_ids], with_vectors=True)
        phrasings = self._phrasing_points([p.payload["id"] for p in stored], with_vectors=True)
        by_entry: dict[str, list[StoredPoint]] = {}
        for point in phrasings:
            by_entry.setdefault(point.payload[PHRASING_OF], []).append(point)
        found = {}
        for point in stored:
            own = by_entry.get(point.payload["id"], [])
            question = point.vectors.get(QUESTION)
            found[point.payload["id"]] = EncodedEntry(
                FaqEntry.from_payload(point.payload, [phrasing_of(p.payload) for p in own]),
                np.asarray(point.vectors[ANSWER], dtype=np.float32),
                None if question is None else np.asarray(question, dtype=np.float32),
                tuple(np.asarray(p.vectors[QUESTION], dtype=np.float32) for p in own),
            )
        return found

    def added_phrasings(self) -> dict[str, list[Phrasing]]:
        """The phrasings added to entries after them, by entry id, in order."""
        added: dict[str, list[Phrasing]] = {}
        for point in self._phrasing_points(None, added=True):
            added.setdefault(point.payload[PHRASING_OF], []).append(phrasing_of(point.payload))
        return added

    def _with_phrasings(self, payloads: Sequence[dict[str, Any]]) -> list[FaqEntry]:
        by_entry: dict[str, list[Phrasing]] = {}
        for point in self._phrasing_points([p["id"] for p in payloads]):
            by_entry.setdefault(point.payload[PHRASING_OF], []).append(phrasing_of(point.payload))
        return [FaqEntry.from_payload(p, by_entry.get(p["id"], ())) for p in payloads]

    def _phrasing_points(
        self,
        entry_ids: Sequence[str] | None,
        *,
        added: bool | None = None,
        with_vectors: bool = False,
    ) -> list[StoredPoint]:
        """The phrasing points of `entry_ids` (of every entry: None), each entry's in order."""
        if entry_ids is not None and not entry_ids:
            return []
        where = PointFilter(
            "phrasings", of_entries=() if entry_ids is None else tuple(entry_ids), added=added
        )
        points: list[StoredPoint] = []
        offset: Any = None
        while True:
            page, offset = self._scroll(offset, PHRASING_PAGE, where, with_vectors=with_vectors)
            points += page
            if offset is None:
                break
        points.sort(key=lambda p: (p.payload[PHRASING_OF], p.payload.get(PHRASING_SEQ, 0)))
        return points

    def count(self) -> int:
        """How many entries the collection holds (their phrasings not counted)."""
        return self._count(ENTRIES)

    # ---- export and restore (faq_core.store.dump) ---------------------------------------------

    def point_pages(self, *, with_vectors: bool, limit: int = 512) -> Iterator[list[StoredPoint]]:
        """Every point as stored, a page of entries at a time, each page followed by those
        entries' phrasings (by entry, in order): a phrasing never comes before its entry. In the
        store's stable order (point ids), the same on both backends."""
        offset: Any = None
        while True:
            points, offset = self._scroll(offset, limit, ENTRIES, with_vectors=with_vectors)
            ids = [p.payload["id"] for p in points]
            yield points + self._phrasing_points(ids, with_vectors=with_vectors)
            if offset is None:
                return

    def write_points(self, points: Sequence[StoredPoint]) -> None:
        """Write points as `point_pages` read them (a restore), all or none."""
        if points:
            self._upsert(points)

    # ---- backend primitives -------------------------------------------------------------------

    @abstractmethod
    def _read_metadata(self) -> dict[str, Any] | None:
        """The collection's metadata, or None when the collection does not exist."""

    @abstractmethod
    def _create(self, layout: CollectionLayout) -> None: ...

    @abstractmethod
    def _upsert(self, points: Sequence[StoredPoint]) -> None:
        """Write the points, all of them or none (one operation)."""

    @abstractmethod
    def _query_batch(
        self, queries: Sequence[VectorQuery]
    ) -> list[list[tuple[dict[str, Any], float]]]:
        """(payload, score) pairs for each query, best first."""

    @abstractmethod
    def _retrieve(self, pids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        """The points that exist among `pids`."""

    @abstractmethod
    def _scroll(
        self, offset: Any, limit: int, where: PointFilter, *, with_vectors: bool = False
    ) -> tuple[list[StoredPoint], Any]:
        """A page of the points `where` selects and the offset of the next page (None after
        the last)."""

    @abstractmethod
    def _count(self, where: PointFilter) -> int:
        """How many points `where` selects, exactly."""

    @abstractmethod
    def _source_counts(self, limit: int) -> dict[str, int]:
        """Entries per value of `source`, exact, the `limit` biggest (a facet of the field over
        the entry points)."""

    @abstractmethod
    def drop(self) -> None:
        """Delete the collection and everything in it."""

    @abstractmethod
    def _delete(self, pids: Sequence[str]) -> None: ...

    @abstractmethod
    def _delete_where(self, where: PointFilter) -> None:
        """Delete the points `where` selects."""

    @abstractmethod
    def _set_payload_where(self, values: dict[str, Any], where: PointFilter) -> None:
        """Set these payload keys of the points `where` selects."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers now."""

    @abstractmethod
    def optimize(self) -> None:
        """Build indexes after a bulk load (HNSW), where the backend does not on its own."""

    @abstractmethod
    def maintain(self) -> None:
        """After writes at runtime: fold them into the collection's own files, so that its
        write-ahead log does not keep growing, where the backend does not do so on its own."""

    @abstractmethod
    def close(self) -> None: ...
