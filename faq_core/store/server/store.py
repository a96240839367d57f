"""One collection version on a Qdrant server or cluster, through qdrant-client.

qdrant-client's own local mode (`QdrantClient(location=":memory:")`) stands in for the server in
tests; in production the client is built from `FAQ_QDRANT_URL`. Every client call goes through
`translated`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from faq_core.entries import ORIGIN_KEY, RUNTIME_ORIGIN
from faq_core.store.base import (
    ANSWER,
    FULL_SCAN_KB,
    INT8_QUANTILE,
    PHRASING_OF,
    VECTOR_NAMES,
    AnswerStore,
    CollectionLayout,
    PointFilter,
    SearchTuning,
    StoredPoint,
    VectorQuery,
)
from faq_core.store.server.errors import translated

_SOURCE_FIELD = "source"
_INT8 = models.ScalarQuantization(
    scalar=models.ScalarQuantizationConfig(
        type=models.ScalarType.INT8, quantile=INT8_QUANTILE, always_ram=True
    )
)


class ServerStore(AnswerStore):
    """A collection on a Qdrant server; shards and replicas apply when it is created."""

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        *,
        shard_number: int = 1,
        replication_factor: int = 1,
        search: SearchTuning | None = None,
    ) -> None:
        self.name = collection
        search = search or SearchTuning()
        self._search_params = models.SearchParams(
            hnsw_ef=search.hnsw_ef,
            quantization=models.QuantizationSearchParams(
                rescore=True, oversampling=search.oversampling
            ),
        )
        self.client = client
        self.shard_number = shard_number
        self.replication_factor = replication_factor

    def _read_metadata(self) -> dict[str, Any] | None:
        with translated():
            if not self.client.collection_exists(self.name):
                return None
            info = self.client.get_collection(self.name)
        return dict(info.config.metadata or {})

    def _create(self, layout: CollectionLayout) -> None:
        vector = models.VectorParams(size=layout.dim, distance=models.Distance.COSINE)
        with translated():
            self.client.create_collection(
                self.name,
                vectors_config={name: vector for name in VECTOR_NAMES},
                hnsw_config=models.HnswConfigDiff(
                    m=layout.hnsw_m,
                    ef_construct=layout.hnsw_ef_construct,
                    full_scan_threshold=FULL_SCAN_KB,
                ),
                quantization_config=_INT8 if layout.quantization == "int8" else None,
                shard_number=self.shard_number,
                replication_factor=self.replication_factor,
                metadata=layout.metadata(),
            )
            for name in (_SOURCE_FIELD, PHRASING_OF):
                self.client.create_payload_index(
                    self.name, name, field_schema=models.PayloadSchemaType.KEYWORD, wait=True
                )

    def _upsert(self, points: Sequence[StoredPoint]) -> None:
        structs = [models.PointStruct(id=p.id, vector=p.vectors, payload=p.payload) for p in points]
        with translated():
            self.client.upsert(self.name, points=structs, wait=True)

    def _query_batch(
        self, queries: Sequence[VectorQuery]
    ) -> list[list[tuple[dict[str, Any], float]]]:
        requests = [
            models.QueryRequest(
                query=q.vector,
                using=q.using,
                limit=q.limit,
                filter=_filter(q.where),
                score_threshold=q.score_threshold,
                with_payload=True,
                params=self._search_params,
            )
            for q in queries
        ]
        with translated():
            responses = self.client.query_batch_points(self.name, requests=requests)
        return [[(p.payload or {}, p.score) for p in r.points] for r in responses]

    def _retrieve(self, pids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        with translated():
            records = self.client.retrieve(
                self.name, list(pids), with_payload=True, with_vectors=with_vectors
            )
        return [_stored(r) for r in records]

    def _scroll(
        self, offset: Any, limit: int, where: PointFilter, *, with_vectors: bool = False
    ) -> tuple[list[StoredPoint], Any]:
        with translated():
            records, next_offset = self.client.scroll(
                self.name,
                scroll_filter=_filter(where),
                offset=offset,
                limit=limit,
                with_payload=True,
                with_vectors=with_vectors,
            )
        return [_stored(r) for r in records], next_offset

    def _count(self, where: PointFilter) -> int:
        with translated():
            return self.client.count(self.name, count_filter=_filter(where), exact=True).count

    def _source_counts(self, limit: int) -> dict[str, int]:
        with translated():
            facet = self.client.facet(
                self.name,
                _SOURCE_FIELD,
                facet_filter=_filter(PointFilter("entries")),
                limit=limit,
                exact=True,
            )
        return {str(hit.value): hit.count for hit in facet.hits}

    def drop(self) -> None:
        with translated():
            self.client.delete_collection(self.name)

    def _delete(self, pids: Sequence[str]) -> None:
        with translated():
            self.client.delete(
                self.name, points_selector=models.PointIdsList(points=list(pids)), wait=True
            )

    def _delete_where(self, where: PointFilter) -> None:
        filter_ = _filter(where)
        assert filter_ is not None, "deleting every point is drop()"
        with translated():
            self.client.delete(
                self.name, points_selector=models.FilterSelector(filter=filter_), wait=True
            )

    def _set_payload_where(self, values: dict[str, Any], where: PointFilter) -> None:
        filter_ = _filter(where)
        assert filter_ is not None
        with translated():
            self.client.set_payload(self.name, payload=values, points=filter_, wait=True)

    def ping(self) -> None:
        with translated():
            self.client.get_collections()

    def optimize(self) -> None:
        """The server builds HNSW in the background on its own."""

    def maintain(self) -> None:
        """The server flushes, truncates its log and vacuums in the background on its own."""

    def close(self) -> None:
        """The client is shared by every version of the collection: its catalog closes it."""


def _stored(record: Any) -> StoredPoint:
    # Named vectors only here (VECTOR_NAMES), so a record's vector is a dict when asked for.
    return StoredPoint(str(record.id), record.payload or {}, dict(record.vector or {}))


def _filter(where: PointFilter) -> models.Filter | None:
    """The server's filter of `where` (faq_core.store.base.PointFilter)."""
    must: list[Any] = []
    must_not: list[Any] = []
    has_answer = models.HasVectorCondition(has_vector=ANSWER)
    if where.kind == "entries":
        must.append(has_answer)
    elif where.kind == "phrasings":
        must_not.append(has_answer)
    if where.source is not None:
        must.append(
            models.FieldCondition(key=_SOURCE_FIELD, match=models.MatchValue(value=where.source))
        )
    if where.of_entries:
        must.append(
            models.FieldCondition(
                key=PHRASING_OF, match=models.MatchAny(any=list(where.of_entries))
            )
        )
    runtime = models.FieldCondition(key=ORIGIN_KEY, match=models.MatchValue(value=RUNTIME_ORIGIN))
    if where.added is True:
        must.append(runtime)
    elif where.added is False:
        must_not.append(runtime)
    if where.not_ids:
        must_not.append(models.HasIdCondition(has_id=list(where.not_ids)))
    if not must and not must_not:
        return None
    return models.Filter(must=must or None, must_not=must_not or None)
