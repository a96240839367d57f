"""The answer store: one interface, two backends (Qdrant Edge embedded, qdrant-client server).

Each entry is one point with two named vectors, its answer and (when it has one) its own FAQ
question, so that a user's question can match either. Search asks both vectors and returns each
entry once, with its better score.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from faq_core.entries import FaqEntry, point_id
from faq_core.errors import CollectionMissing, ModelMismatch

ANSWER = "answer"
QUESTION = "question"
VECTOR_NAMES = (ANSWER, QUESTION)
# A quantized collection maps the central 99% of its vector values onto int8 (both backends).
INT8_QUANTILE = 0.99


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
    """An entry with its vectors, ready to upsert."""

    entry: FaqEntry
    answer_vector: np.ndarray
    question_vector: np.ndarray | None

    def vectors(self) -> dict[str, Any]:
        vectors: dict[str, Any] = {ANSWER: self.answer_vector.tolist()}
        if self.question_vector is not None:
            vectors[QUESTION] = self.question_vector.tolist()
        return vectors


@dataclass(frozen=True)
class Hit:
    """One answer to a question: the entry, its cosine score and which of its vectors matched,
    and each vector's own score where the search found the entry by it."""

    entry: FaqEntry
    score: float
    matched: str
    scores: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class VectorQuery:
    """One nearest-neighbour query against one named vector, as the backends receive it."""

    vector: list[float]
    using: str
    limit: int
    source: str | None
    score_threshold: float | None


@dataclass(frozen=True)
class SearchRequest:
    """One question's search: its vector and the parameters of `/ask`."""

    vector: np.ndarray
    top_k: int
    source: str | None = None
    score_threshold: float | None = None


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

    def upsert(self, encoded: Sequence[EncodedEntry]) -> list[str]:
        """Insert or replace entries (same id, same point); returns their public ids."""
        if encoded:
            self._upsert(encoded)
        return [item.entry.entry_id for item in encoded]

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
        """Each request's best `top_k` entries, each entry once, best score first; all of them in
        one call to the backend (one batch of HNSW queries, or one round trip to a server).

        The top k of the union of the per-vector top k lists is the exact top k by best score,
        so asking each named vector for `top_k` is enough.
        """
        queries = [
            VectorQuery(r.vector.tolist(), using, r.top_k, r.source, r.score_threshold)
            for r in requests
            for using in VECTOR_NAMES
        ]
        results = self._query_batch(queries)
        merged = []
        for i, request in enumerate(requests):
            found: dict[str, tuple[dict[str, Any], dict[str, float]]] = {}
            for using, scored in zip(VECTOR_NAMES, results[2 * i : 2 * i + 2], strict=True):
                for payload, score in scored:
                    found.setdefault(payload["id"], (payload, {}))[1][using] = float(score)
            hits = []
            for payload, by_vector in found.values():
                matched = max(by_vector, key=by_vector.__getitem__)
                entry = FaqEntry.from_payload(payload)
                hits.append(Hit(entry, by_vector[matched], matched, by_vector))
            merged.append(sorted(hits, key=lambda hit: -hit.score)[: request.top_k])
        return merged

    def entries(self) -> Iterator[FaqEntry]:
        """Every entry the collection holds, in no particular order."""
        offset: Any = None
        while True:
            payloads, offset = self._scroll(offset, 512, None)
            yield from (FaqEntry.from_payload(p) for p in payloads)
            if offset is None:
                return

    def page(
        self, limit: int, offset: str | None = None, *, source: str | None = None
    ) -> tuple[list[FaqEntry], str | None]:
        """Up to `limit` entries (of `source` only, when given) in the store's own stable order,
        and the offset of the next page: None after the last. An offset is opaque (a point id):
        pass on what the previous page returned."""
        payloads, next_offset = self._scroll(offset, limit, source)
        entries = [FaqEntry.from_payload(p) for p in payloads]
        return entries, None if next_offset is None else str(next_offset)

    def count_by_source(self, limit: int = 1000) -> dict[str, int]:
        """How many entries each source has, the `limit` biggest sources; entries without a
        source are not counted (`count` minus the sum)."""
        # Qdrant Edge keeps reporting a value whose last entry was deleted, with a count of 0.
        return {source: n for source, n in self._source_counts(limit).items() if n > 0}

    def get(self, entry_id: str) -> FaqEntry | None:
        return self.get_many([entry_id]).get(entry_id)

    def get_many(self, entry_ids: Sequence[str]) -> dict[str, FaqEntry]:
        """The entries that exist among `entry_ids`, by id."""
        payloads = self._retrieve([point_id(i) for i in entry_ids])
        return {p["id"]: FaqEntry.from_payload(p) for p in payloads}

    def get_encoded(self, entry_ids: Sequence[str]) -> dict[str, EncodedEntry]:
        """Stored entries with their vectors, by id: what a new version copies instead of
        encoding again when the servable did not change."""
        found = {}
        for payload, vectors in self._retrieve_with_vectors([point_id(i) for i in entry_ids]):
            question = vectors.get(QUESTION)
            found[payload["id"]] = EncodedEntry(
                FaqEntry.from_payload(payload),
                np.asarray(vectors[ANSWER], dtype=np.float32),
                None if question is None else np.asarray(question, dtype=np.float32),
            )
        return found

    def delete(self, entry_id: str) -> bool:
        """Remove an entry; False when there was none with that id."""
        pid = point_id(entry_id)
        if not self._retrieve([pid]):
            return False
        self._delete(pid)
        return True

    # ---- backend primitives -------------------------------------------------------------------

    @abstractmethod
    def _read_metadata(self) -> dict[str, Any] | None:
        """The collection's metadata, or None when the collection does not exist."""

    @abstractmethod
    def _create(self, layout: CollectionLayout) -> None: ...

    @abstractmethod
    def _upsert(self, encoded: Sequence[EncodedEntry]) -> None: ...

    @abstractmethod
    def _query_batch(
        self, queries: Sequence[VectorQuery]
    ) -> list[list[tuple[dict[str, Any], float]]]:
        """(payload, score) pairs for each query, best first."""

    @abstractmethod
    def _retrieve(self, pids: Sequence[str]) -> list[dict[str, Any]]:
        """Payloads of the points that exist among `pids`."""

    @abstractmethod
    def _retrieve_with_vectors(
        self, pids: Sequence[str]
    ) -> list[tuple[dict[str, Any], dict[str, list[float]]]]:
        """(payload, named vectors) of the points that exist among `pids`."""

    @abstractmethod
    def _scroll(
        self, offset: Any, limit: int, source: str | None
    ) -> tuple[list[dict[str, Any]], Any]:
        """A page of payloads (of `source` only, when given) and the offset of the next page
        (None after the last)."""

    @abstractmethod
    def _source_counts(self, limit: int) -> dict[str, int]:
        """Entries per value of `source`, exact, the `limit` biggest (a facet of the field)."""

    @abstractmethod
    def drop(self) -> None:
        """Delete the collection and everything in it."""

    @abstractmethod
    def _delete(self, pid: str) -> None: ...

    @abstractmethod
    def count(self) -> int:
        """How many entries the collection holds."""

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
