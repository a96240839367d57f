"""One collection version in an Edge shard: Qdrant Edge, the Qdrant engine in-process, with HNSW
and a write-ahead log.

On disk: `<directory>/<name>/shard/` (the Edge shard), `.../metadata.json` (which servable built
the vectors; Edge shards have no collection metadata of their own) and `.../shard.lock` (this
process's hold on the shard). Every call into Edge goes through `translated`.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from faq_core.entries import ORIGIN_KEY, RUNTIME_ORIGIN
from faq_core.errors import StoreUnavailable
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
from faq_core.store.edge.errors import in_use, translated
from faq_core.store.edge.space import DiskSpace, disk_bytes

_METADATA_FILE = "metadata.json"
_LOCK_FILE = "shard.lock"
_SOURCE_FIELD = "source"
# Kept in RAM (a quarter of the float32 vectors' size): the HNSW search on them took a third of
# the time, and rescoring twice top k candidates kept its top 3 as exact (bench/search.py).
_INT8 = qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=INT8_QUANTILE, always_ram=True)


class EdgeStore(AnswerStore):
    """A collection kept in an in-process Qdrant Edge shard."""

    def __init__(
        self,
        store_path: Path,
        collection: str,
        *,
        search: SearchTuning | None = None,
        space: DiskSpace | None = None,
    ) -> None:
        """The collection `collection` under `store_path`; with `space`, every write first
        checks that the disk has room for it (StorageFull otherwise)."""
        self.name = collection
        self._space = space
        search = search or SearchTuning()
        self._search_params = qe.SearchParams(
            hnsw_ef=search.hnsw_ef,
            quantization=qe.QuantizationSearchParams(
                rescore=True, oversampling=search.oversampling
            ),
        )
        self.path = Path(store_path) / collection
        self._shard: qe.EdgeShard | None = None
        # Edge applies writes safely from any thread, but we keep them in one order so that
        # "upsert then delete" from two requests cannot be reordered.
        self._write_lock = threading.Lock()
        # Two threads loading the shard at once would each take a handle: the second fails to
        # lock it, or worse, both write and one handle's writes are lost.
        self._load_lock = threading.Lock()
        self._claim_fd: int | None = None

    @property
    def shard(self) -> qe.EdgeShard:
        if self._shard is not None:
            return self._shard
        with self._load_lock:
            return self._load()

    def _load(self) -> qe.EdgeShard:
        if self._shard is None:
            shard_dir = self._shard_dir
            if not shard_dir.is_dir():
                raise StoreUnavailable(f"embedded store {shard_dir} does not exist")
            self._claim()
            try:
                with translated(shard_dir):
                    self._shard = qe.EdgeShard.load(str(shard_dir))
            except BaseException:
                self._release()
                raise
        return self._shard

    def _claim(self) -> None:
        """Take this process's hold on the shard before Edge opens any of its files.

        Edge's own lock is on its write-ahead log, which it opens only after loading the
        segments: by then a second process's load had rewritten a segment's payload journal, and
        every later flush of the process holding the shard failed (qdrant-edge-py 0.9.0).
        """
        if self._claim_fd is not None:
            return
        with translated(self.path):
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise in_use(self._shard_dir) from None
        self._claim_fd = fd

    def _release(self) -> None:
        if self._claim_fd is not None:
            os.close(self._claim_fd)  # and with it the lock
            self._claim_fd = None

    @property
    def _shard_dir(self) -> Path:
        return self.path / "shard"

    def _read_metadata(self) -> dict[str, Any] | None:
        file = self.path / _METADATA_FILE
        with translated(self.path):
            if not file.is_file():
                return None
            metadata: dict[str, Any] = json.loads(file.read_text())
        return metadata

    def _create(self, layout: CollectionLayout) -> None:
        quantized = layout.quantization == "int8"
        vector = qe.EdgeVectorParams(
            size=layout.dim,
            distance=qe.Distance.Cosine,
            quantization_config=_INT8 if quantized else None,
            # The search runs on the int8 copy; the float32 vectors are read only to rescore a few
            # candidates, so they need not sit in RAM. Cached, the 64 MB chunk of a segment that
            # took runtime writes was read whole into the service's memory when it started.
            memory=qe.Memory.Cold if quantized else None,
        )
        config = qe.EdgeConfig(
            # Each search already runs on a thread of the caller's (the service's encode workers,
            # one per core): the shard's own pool, a thread per CPU, only added hand-offs.
            max_search_threads=1,
            vectors={name: vector for name in VECTOR_NAMES},
            hnsw_config=qe.HnswIndexConfig(
                m=layout.hnsw_m,
                ef_construct=layout.hnsw_ef_construct,
                full_scan_threshold=FULL_SCAN_KB,
            ),
        )
        self._check_space()
        # A shard without metadata is what a creation that never finished leaves: start again.
        self._claim()
        shutil.rmtree(self._shard_dir, ignore_errors=True)
        try:
            with translated(self._shard_dir):
                self._shard = qe.EdgeShard.create(str(self._shard_dir), config)
        except BaseException:
            self._release()
            raise
        with translated(self._shard_dir):
            for name in (_SOURCE_FIELD, PHRASING_OF):
                self._shard.update(
                    qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword)
                )
            # Metadata last and atomically: without it, the collection's creation never finished.
            tmp = self.path / f"{_METADATA_FILE}.tmp"
            tmp.write_text(json.dumps(layout.metadata()))
            os.replace(tmp, self.path / _METADATA_FILE)

    def _upsert(self, points: Sequence[StoredPoint]) -> None:
        operation = qe.UpdateOperation.upsert_points(
            [qe.Point(p.id, p.vectors, p.payload) for p in points]
        )
        with self._write_lock:
            self._update(operation)

    def _query_batch(
        self, queries: Sequence[VectorQuery]
    ) -> list[list[tuple[dict[str, Any], float]]]:
        requests = [
            qe.QueryRequest(
                limit=q.limit,
                query=qe.Query.Nearest(q.vector, using=q.using),
                filter=_filter(q.where),
                score_threshold=q.score_threshold,
                with_payload=True,
                params=self._search_params,
            )
            for q in queries
        ]
        with translated(self._shard_dir):
            results = self.shard.query_batch(qe.QueryBatchRequest(requests))
        return [[(p.payload or {}, p.score) for p in points] for points in results]

    def _retrieve(self, pids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        with translated(self._shard_dir):
            records = self.shard.retrieve(list(pids), with_payload=True, with_vector=with_vectors)
        return [_stored(r) for r in records]

    def _scroll(
        self, offset: Any, limit: int, where: PointFilter, *, with_vectors: bool = False
    ) -> tuple[list[StoredPoint], Any]:
        request = qe.ScrollRequest(
            offset=offset,
            limit=limit,
            filter=_filter(where),
            with_payload=True,
            with_vector=with_vectors,
        )
        with translated(self._shard_dir):
            records, next_offset = self.shard.scroll(request)
        return [_stored(r) for r in records], next_offset

    def _count(self, where: PointFilter) -> int:
        with translated(self._shard_dir):
            return int(self.shard.count(qe.CountRequest(exact=True, filter=_filter(where))))

    def _source_counts(self, limit: int) -> dict[str, int]:
        request = qe.FacetRequest(
            _SOURCE_FIELD, limit=limit, exact=True, filter=_filter(PointFilter("entries"))
        )
        with translated(self._shard_dir):
            facet = self.shard.facet(request)
        return {str(hit.value): hit.count for hit in facet.hits}

    def drop(self) -> None:
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)

    def _delete(self, pids: Sequence[str]) -> None:
        with self._write_lock:
            self._update(qe.UpdateOperation.delete_points(list(pids)))

    def _delete_where(self, where: PointFilter) -> None:
        filter_ = _filter(where)
        assert filter_ is not None, "deleting every point is drop()"
        with self._write_lock:
            self._update(qe.UpdateOperation.delete_points_by_filter(filter_))

    def _set_payload_where(self, values: dict[str, Any], where: PointFilter) -> None:
        filter_ = _filter(where)
        assert filter_ is not None
        with self._write_lock:
            self._update(qe.UpdateOperation.set_payload_by_filter(filter_, values))

    def _update(self, operation: qe.UpdateOperation) -> None:
        """One write; the caller holds the write lock."""
        self._check_files()
        self._check_space()
        with translated(self._shard_dir):
            self.shard.update(operation)

    def _check_space(self, needed: int = 0) -> None:
        if self._space is not None:
            self._space.check(needed)

    def _check_files(self) -> None:
        # Edge works from memory and open files: with the shard's directory removed under it, it
        # still answers, and takes writes that no restart would find.
        if not self._shard_dir.is_dir():
            raise StoreUnavailable(f"the embedded store's files at {self._shard_dir} are gone")

    def ping(self) -> None:
        with translated(self._shard_dir):
            self.shard.info()
        self._check_files()

    def optimize(self) -> None:
        # The optimizer writes the collection anew beside its old segments before it drops them.
        self._check_space(needed=disk_bytes(self._shard_dir))
        with self._write_lock, translated(self._shard_dir):
            self.shard.optimize()

    def maintain(self) -> None:
        # Edge does no work in the background, and its write-ahead log is truncated only by a
        # flush: a service taking writes grew by ~3.5 KB per add-and-delete (memory and disk),
        # and a restart replayed the whole log. Not `optimize`, though it would also drop the
        # vectors that deleted points still hold (~3 KB each, until the next re-index): it
        # holds the GIL while it rewrites a segment, and under a soak one such stall outlasted
        # the clients' 2 s timeout.
        with self._write_lock, translated(self._shard_dir):
            self.shard.flush()

    def close(self) -> None:
        try:
            if self._shard is not None:
                shard, self._shard = self._shard, None
                with translated(self._shard_dir):
                    try:
                        shard.flush()
                    finally:
                        shard.close()
        finally:
            self._release()


def _stored(record: Any) -> StoredPoint:
    # Named vectors only here (VECTOR_NAMES), so a record's vector is a dict when asked for.
    return StoredPoint(str(record.id), record.payload or {}, dict(record.vector or {}))


def _filter(where: PointFilter) -> qe.Filter | None:
    """The Edge filter of `where` (faq_core.store.base.PointFilter)."""
    must: list[Any] = []
    must_not: list[Any] = []
    if where.kind == "entries":
        must.append(qe.HasVectorCondition(ANSWER))
    elif where.kind == "phrasings":
        must_not.append(qe.HasVectorCondition(ANSWER))
    if where.source is not None:
        must.append(qe.FieldCondition(key=_SOURCE_FIELD, match=qe.MatchValue(where.source)))
    if where.of_entries:
        must.append(qe.FieldCondition(key=PHRASING_OF, match=qe.MatchAny(list(where.of_entries))))
    runtime = qe.FieldCondition(key=ORIGIN_KEY, match=qe.MatchValue(RUNTIME_ORIGIN))
    if where.added is True:
        must.append(runtime)
    elif where.added is False:
        must_not.append(runtime)
    if where.not_ids:
        must_not.append(qe.HasIdCondition(set(where.not_ids)))
    if not must and not must_not:
        return None
    return qe.Filter(must=must or None, must_not=must_not or None)
