"""One collection version on a Qdrant server or cluster, through qdrant-client.

qdrant-client's own local mode (`QdrantClient(location=":memory:")`) stands in for the server in
tests; in production the client is built from `FAQ_QDRANT_URL`. Every client call goes through
`translated`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from faq_core.entries import point_id
from faq_core.store.base import (
    INT8_QUANTILE,
    VECTOR_NAMES,
    AnswerStore,
    CollectionLayout,
    EncodedEntry,
    SearchTuning,
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
                    m=layout.hnsw_m, ef_construct=layout.hnsw_ef_construct
                ),
                quantization_config=_INT8 if layout.quantization == "int8" else None,
                shard_number=self.shard_number,
                replication_factor=self.replication_factor,
                metadata=layout.metadata(),
            )
            self.client.create_payload_index(
                self.name, _SOURCE_FIELD, field_schema=models.PayloadSchemaType.KEYWORD, wait=True
            )

    def _upsert(self, encoded: Sequence[EncodedEntry]) -> None:
        points = [
            models.PointStruct(
                id=point_id(item.entry.entry_id),
                vector=item.vectors(),
                payload=item.entry.payload(),
            )
            for item in encoded
        ]
        with translated():
            self.client.upsert(self.name, points=points, wait=True)

    def _query_batch(
        self, queries: Sequence[VectorQuery]
    ) -> list[list[tuple[dict[str, Any], float]]]:
        requests = [
            models.QueryRequest(
                query=q.vector,
                using=q.using,
                limit=q.limit,
                filter=_source_filter(q.source),
                score_threshold=q.score_threshold,
                with_payload=True,
                params=self._search_params,
            )
            for q in queries
        ]
        with translated():
            responses = self.client.query_batch_points(self.name, requests=requests)
        return [[(p.payload or {}, p.score) for p in r.points] for r in responses]

    def _retrieve(self, pids: Sequence[str]) -> list[dict[str, Any]]:
        with translated():
            records = self.client.retrieve(
                self.name, list(pids), with_payload=True, with_vectors=False
            )
        return [r.payload or {} for r in records]

    def _retrieve_with_vectors(
        self, pids: Sequence[str]
    ) -> list[tuple[dict[str, Any], dict[str, list[float]]]]:
        with translated():
            records = self.client.retrieve(
                self.name, list(pids), with_payload=True, with_vectors=True
            )
        return [(r.payload or {}, dict(r.vector or {})) for r in records]  # type: ignore[arg-type]

    def _scroll(
        self, offset: Any, limit: int, source: str | None
    ) -> tuple[list[dict[str, Any]], Any]:
        with translated():
            records, next_offset = self.client.scroll(
                self.name,
                scroll_filter=_source_filter(source),
                offset=offset,
                limit=limit,
                with_payload=True,
                with_vectors=False,
            )
        return [r.payload or {} for r in records], next_offset

    def _source_counts(self, limit: int) -> dict[str, int]:
        with translated():
            facet = self.client.facet(self.name, _SOURCE_FIELD, limit=limit, exact=True)
        return {str(hit.value): hit.count for hit in facet.hits}

    def drop(self) -> None:
        with translated():
            self.client.delete_collection(self.name)

    def _delete(self, pid: str) -> None:
        with translated():
            self.client.delete(
                self.name, points_selector=models.PointIdsList(points=[pid]), wait=True
            )

    def count(self) -> int:
        with translated():
            return self.client.count(self.name, exact=True).count

    def ping(self) -> None:
        with translated():
            self.client.get_collections()

    def optimize(self) -> None:
        """The server builds HNSW in the background on its own."""

    def maintain(self) -> None:
        """The server flushes, truncates its log and vacuums in the background on its own."""

    def close(self) -> None:
        """The client is shared by every version of the collection: its catalog closes it."""


def _source_filter(source: str | None) -> models.Filter | None:
    if source is None:
        return None
    return models.Filter(
        must=[models.FieldCondition(key=_SOURCE_FIELD, match=models.MatchValue(value=source))]
    )
