"""The answer store, one behavioural suite run on both backends, and their congruence.

"edge" is the embedded Qdrant Edge store; "server" is qdrant-client's local mode standing in for a
Qdrant server (same client code path, no network).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np
import pytest
from qdrant_client import QdrantClient

from faq_core.encoding import encode_entries
from faq_core.entries import FaqEntry
from faq_core.errors import CollectionMissing, ModelMismatch, StoreUnavailable
from faq_core.servable import Servable
from faq_core.sources import read_entries
from faq_core.store.base import (
    VECTOR_NAMES,
    AnswerStore,
    CollectionLayout,
    EncodedEntry,
    Hit,
    SearchRequest,
    SearchTuning,
)
from faq_core.store.edge import EdgeStore
from faq_core.store.edge.errors import translated
from faq_core.store.server import ServerCatalog, ServerStore
from tests.support.churn import churn, closed_log_segments, disk_bytes

SLICE = 200
BACKENDS = ["edge", "server"]


def unique_content(entries: list[FaqEntry]) -> list[FaqEntry]:
    """Entries whose question and answer texts are both unique, so exact score ties cannot occur."""
    questions: dict[str | None, int] = {}
    answers: dict[str, int] = {}
    for e in entries:
        questions[e.question] = questions.get(e.question, 0) + 1
        answers[e.answer] = answers.get(e.answer, 0) + 1
    return [e for e in entries if questions[e.question] == 1 and answers[e.answer] == 1]


@pytest.fixture(scope="module")
def encoded(servable: Servable, val_file: Path) -> list[EncodedEntry]:
    entries = unique_content(read_entries(val_file)[:SLICE])
    return encode_entries(servable, entries)


@pytest.fixture(scope="module")
def layout(servable: Servable) -> CollectionLayout:
    return CollectionLayout(servable.dim, servable.model_id)


def make_store(kind: str, tmp_path: Path) -> AnswerStore:
    if kind == "edge":
        return EdgeStore(tmp_path / "store", "faq")
    return ServerStore(QdrantClient(location=":memory:"), "faq")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AnswerStore]:
    """A fresh, empty backend (collection not created yet)."""
    backend = make_store(request.param, tmp_path)
    yield backend
    backend.close()


@pytest.fixture
def filled(
    store: AnswerStore, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> AnswerStore:
    store.open(layout, create=True)
    store.upsert(encoded)
    return store


def ids(hits: list[Hit]) -> list[str]:
    return [h.entry.entry_id for h in hits]


def exact_ranking(encoded: list[EncodedEntry], query: np.ndarray, source: str | None = None):
    """Brute force: each entry scores its better cosine of answer and question vectors."""
    ranked = []
    for item in encoded:
        if source is not None and item.entry.source != source:
            continue
        score = float(item.answer_vector @ query)
        if item.question_vector is not None:
            score = max(score, float(item.question_vector @ query))
        ranked.append((score, item.entry.entry_id))
    ranked.sort(key=lambda pair: -pair[0])
    return ranked


def query_vectors(encoded: list[EncodedEntry]) -> list[np.ndarray]:
    """Some question vectors, some answer vectors, and some blends that match nothing exactly.

    The blends weigh their two answers unequally: an equal blend of two unit vectors scores both
    exactly the same, and tied entries may come back in either order.
    """
    picks = [encoded[i] for i in range(0, len(encoded), max(1, len(encoded) // 6))]
    vectors = [p.question_vector for p in picks if p.question_vector is not None]
    vectors += [p.answer_vector for p in picks[:3]]
    for a, b in itertools.pairwise(picks):
        blend = 0.7 * a.answer_vector + 0.3 * b.answer_vector
        vectors.append(blend / np.linalg.norm(blend))
    return vectors


# ---- opening ------------------------------------------------------------------------------------


def test_open_without_create_on_missing_collection(
    store: AnswerStore, layout: CollectionLayout
) -> None:
    with pytest.raises(
        CollectionMissing, match=r"collection 'faq' does not exist: run faq-index first"
    ):
        store.open(layout, create=False)


def test_open_with_create_then_reopen_with_same_layout(
    store: AnswerStore, layout: CollectionLayout
) -> None:
    store.open(layout, create=True)
    store.open(layout, create=False)  # exists now, same servable
    store.open(layout, create=True)  # creating again keeps it
    assert store.count() == 0


@pytest.mark.parametrize("change", ["model_id", "dim"])
def test_reopen_with_another_servable_is_a_model_mismatch(
    store: AnswerStore, layout: CollectionLayout, change: str
) -> None:
    store.open(layout, create=True)
    other = (
        replace(layout, model_id="0123456789abcdef")
        if change == "model_id"
        else replace(layout, dim=layout.dim + 1)
    )
    message = (
        f"collection 'faq' was built by servable {layout.model_id!r}, "
        f"not by the loaded servable {other.model_id!r}: re-index with faq-index"
    )
    with pytest.raises(ModelMismatch, match=re.escape(message)):
        store.open(other, create=False)
    with pytest.raises(ModelMismatch, match=r"re-index"):
        store.open(other, create=True)


# ---- writing ------------------------------------------------------------------------------------


def test_upsert_returns_ids_and_counts_entries(
    store: AnswerStore, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    store.open(layout, create=True)
    returned = store.upsert(encoded)
    assert returned == [item.entry.entry_id for item in encoded]
    assert store.count() == len({item.entry.entry_id for item in encoded})
    assert store.upsert([]) == []


def test_upserting_the_same_entries_again_makes_no_duplicates(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    filled.upsert(encoded)
    filled.upsert(encoded[:10])
    assert filled.count() == len({item.entry.entry_id for item in encoded})
    assert sorted(e.entry_id for e in filled.entries()) == sorted(ids_of(encoded))


def ids_of(encoded: list[EncodedEntry]) -> list[str]:
    return [item.entry.entry_id for item in encoded]


def test_upsert_with_a_given_id_replaces_the_entry_and_its_vectors(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    first, second = encoded[0], encoded[1]
    original = EncodedEntry(
        replace(first.entry, id="article-1"), first.answer_vector, first.question_vector
    )
    filled.upsert([original])
    count = filled.count()
    # Same id, new content and no question any more: the old question vector must be gone too.
    newer = EncodedEntry(
        FaqEntry(answer=second.entry.answer, id="article-1"), second.answer_vector, None
    )
    filled.upsert([newer])
    assert filled.count() == count
    got = filled.get("article-1")
    assert got is not None
    assert got.answer == second.entry.answer
    assert got.question is None
    hits = filled.search(first.question_vector, 10)
    assert all(h.matched == "answer" for h in hits if h.entry.entry_id == "article-1")


def test_get_and_delete(filled: AnswerStore, encoded: list[EncodedEntry]) -> None:
    target = encoded[3].entry
    count = filled.count()
    got = filled.get(target.entry_id)
    assert got is not None
    assert (got.answer, got.question, got.source) == (target.answer, target.question, target.source)
    assert got.extra == target.extra
    assert filled.delete("no-such-entry") is False
    assert filled.count() == count
    assert filled.delete(target.entry_id) is True
    assert filled.get(target.entry_id) is None
    assert filled.delete(target.entry_id) is False
    assert filled.count() == count - 1
    assert target.entry_id not in ids(filled.search(encoded[3].answer_vector, 5))


def test_get_many_returns_only_the_existing(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    wanted = [encoded[0].entry.entry_id, "missing-1", encoded[5].entry.entry_id]
    found = filled.get_many(wanted)
    assert set(found) == {encoded[0].entry.entry_id, encoded[5].entry.entry_id}
    assert found[encoded[5].entry.entry_id].answer == encoded[5].entry.answer


def test_entries_lists_every_entry_once(filled: AnswerStore, encoded: list[EncodedEntry]) -> None:
    listed = list(filled.entries())
    assert len(listed) == len(encoded)
    assert {e.entry_id: e.answer for e in listed} == {
        i.entry.entry_id: i.entry.answer for i in encoded
    }


def page_through(
    store: AnswerStore, limit: int, source: str | None = None
) -> tuple[list[FaqEntry], int]:
    """Every page from the first, following each page's offset; and how many pages it took."""
    listed: list[FaqEntry] = []
    offset: str | None = None
    pages = 0
    while True:
        entries, offset = store.page(limit, offset, source=source)
        assert len(entries) <= limit
        listed += entries
        pages += 1
        if offset is None:
            return listed, pages
        assert isinstance(offset, str) and entries


@pytest.mark.parametrize("limit", [1, 7, 64, 500])
def test_pages_list_every_entry_once_in_a_stable_order(
    filled: AnswerStore, encoded: list[EncodedEntry], limit: int
) -> None:
    listed, pages = page_through(filled, limit)
    assert sorted(e.entry_id for e in listed) == sorted(ids_of(encoded))
    assert pages == max(1, math.ceil(len(encoded) / limit))
    again, _ = page_through(filled, limit)
    assert [e.entry_id for e in again] == [e.entry_id for e in listed]
    first = {i.entry.entry_id: i.entry for i in encoded}
    assert all(e == replace(first[e.entry_id], id=e.entry_id) for e in listed)


def test_pages_of_one_source_hold_exactly_its_entries(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    for source in ("gcp", "hetzner"):
        expected = [i.entry.entry_id for i in encoded if i.entry.source == source]
        assert expected
        listed, _ = page_through(filled, 4, source)
        assert sorted(e.entry_id for e in listed) == sorted(expected)
    assert page_through(filled, 4, "no-such-source") == ([], 1)


def test_count_by_source_counts_each_source_and_leaves_out_entries_without_one(
    filled: AnswerStore, encoded: list[EncodedEntry], servable: Servable
) -> None:
    filled.upsert(encode_entries(servable, [FaqEntry(answer="an answer from nowhere.")]))
    counts = filled.count_by_source()
    assert counts == Counter(i.entry.source for i in encoded)
    assert filled.count() == sum(counts.values()) + 1
    biggest = filled.count_by_source(limit=2)
    assert biggest == dict(Counter(i.entry.source for i in encoded).most_common(2))
    assert counts["azure"] > 0
    for item in encoded:
        if item.entry.source == "azure":
            filled.delete(item.entry.entry_id)
    assert "azure" not in filled.count_by_source()


# ---- searching ----------------------------------------------------------------------------------


def test_asking_a_stored_question_finds_its_entry_first(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    for item in encoded[:20]:
        hits = filled.search(item.question_vector, 3)
        assert hits[0].entry.entry_id == item.entry.entry_id
        assert hits[0].matched == "question"
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_each_entry_appears_once_best_first(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    for query in query_vectors(encoded):
        hits = filled.search(query, 10)
        assert len(hits) == 10
        assert len(set(ids(hits))) == len(hits)
        scores = [h.score for h in hits]
        assert scores == sorted(scores, reverse=True)


def test_search_ranks_exactly_like_brute_force(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    for query in query_vectors(encoded):
        hits = filled.search(query, 8)
        expected = exact_ranking(encoded, query)[:8]
        assert ids(hits) == [entry_id for _, entry_id in expected]
        assert [h.score for h in hits] == pytest.approx([s for s, _ in expected], abs=1e-4)


def test_matched_names_the_vector_that_scored(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    by_id = {item.entry.entry_id: item for item in encoded}
    query = encoded[7].question_vector
    for hit in filled.search(query, 10):
        item = by_id[hit.entry.entry_id]
        vector = item.question_vector if hit.matched == "question" else item.answer_vector
        assert vector is not None
        assert float(vector @ query) == pytest.approx(hit.score, abs=1e-4)


@pytest.mark.parametrize("top_k", [1, 4, 25])
def test_top_k_is_respected(filled: AnswerStore, encoded: list[EncodedEntry], top_k: int) -> None:
    hits = filled.search(encoded[0].answer_vector, top_k)
    assert len(hits) == top_k


def test_top_k_above_the_collection_size_returns_everything(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    hits = filled.search(encoded[0].answer_vector, len(encoded) + 50)
    assert sorted(ids(hits)) == sorted(ids_of(encoded))


def test_source_filter_returns_only_that_source(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    sources = sorted({item.entry.source for item in encoded})
    assert len(sources) > 1
    query = encoded[0].question_vector  # an aws question
    for source in sources:
        hits = filled.search(query, 5, source=source)
        expected = exact_ranking(encoded, query, source=source)[:5]
        assert {h.entry.source for h in hits} == {source}
        assert ids(hits) == [entry_id for _, entry_id in expected]
    assert filled.search(query, 5, source="no-such-cloud") == []


def test_score_threshold_drops_lower_scores(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    query = encoded[11].question_vector
    unfiltered = filled.search(query, 20)
    # A threshold halfway between the 5th and 6th scores keeps exactly the first five.
    threshold = (unfiltered[4].score + unfiltered[5].score) / 2
    assert unfiltered[4].score > unfiltered[5].score
    kept = filled.search(query, 20, score_threshold=threshold)
    assert ids(kept) == ids(unfiltered[:5])
    assert all(h.score >= threshold for h in kept)
    assert filled.search(query, 20, score_threshold=1.01) == []


def test_search_many_answers_each_query_separately(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    queries = np.stack([encoded[i].question_vector for i in (2, 9, 40)])
    together = filled.search_many(queries, 4)
    assert [ids(hits) for hits in together] == [ids(filled.search(q, 4)) for q in queries]
    assert [hits[0].entry.entry_id for hits in together] == [
        encoded[i].entry.entry_id for i in (2, 9, 40)
    ]


def test_search_each_keeps_each_requests_own_parameters(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    """One batch of queries for questions asked with different top_k, source and threshold."""
    sources = sorted({item.entry.source for item in encoded if item.entry.source})
    requests = [
        SearchRequest(encoded[2].question_vector, 1),
        SearchRequest(encoded[9].question_vector, 7, source=sources[0]),
        SearchRequest(encoded[40].answer_vector, 5, score_threshold=0.5),
        SearchRequest(encoded[3].question_vector, 3, score_threshold=1.01),
    ]
    together = filled.search_each(requests)
    alone = [
        filled.search(r.vector, r.top_k, source=r.source, score_threshold=r.score_threshold)
        for r in requests
    ]
    assert [ids(hits) for hits in together] == [ids(hits) for hits in alone]
    assert [len(hits) for hits in together] == [1, 7, len(together[2]), 0]
    assert {hit.entry.source for hit in together[1]} == {sources[0]}
    assert all(hit.score >= 0.5 for hit in together[2])


def test_entries_without_a_question_are_found_by_their_answer(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    answer_only = [
        EncodedEntry(
            FaqEntry(answer=item.entry.answer + " (answer only)", source="kb"),
            item.answer_vector,
            None,
        )
        for item in encoded[50:55]
    ]
    filled.upsert(answer_only)
    for item in answer_only:
        hits = filled.search(item.answer_vector, 3, source="kb")
        assert hits[0].entry.entry_id == item.entry.entry_id
        assert hits[0].entry.question is None
        assert hits[0].matched == "answer"
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)


# ---- the two backends agree ---------------------------------------------------------------------


def test_backends_rank_the_same(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    edge, server = make_store("edge", tmp_path), make_store("server", tmp_path)
    try:
        for backend in (edge, server):
            backend.open(layout, create=True)
            backend.upsert(encoded)
        assert edge.count() == server.count() == len(encoded)
        queries = np.stack(query_vectors(encoded))
        for source in (None, "ibm"):
            edge_hits = edge.search_many(queries, 10, source=source)
            server_hits = server.search_many(queries, 10, source=source)
            for e_hits, s_hits in zip(edge_hits, server_hits, strict=True):
                assert ids(e_hits) == ids(s_hits)
                assert [h.matched for h in e_hits] == [h.matched for h in s_hits]
                assert [h.score for h in e_hits] == pytest.approx(
                    [h.score for h in s_hits], abs=1e-5
                )
                assert [h.entry for h in e_hits] == [h.entry for h in s_hits]
    finally:
        edge.close()
        server.close()


@pytest.mark.parametrize("quantization", ["int8", "none"])
def test_a_new_edge_collection_keeps_int8_vectors_to_search_unless_told_not_to(
    tmp_path: Path,
    layout: CollectionLayout,
    encoded: list[EncodedEntry],
    quantization: Literal["int8", "none"],
) -> None:
    """Read back from the shard's configuration; qdrant-client's local mode keeps no quantization
    (the server backend's searches are checked against brute force above)."""
    store = EdgeStore(tmp_path / "store", "faq")
    try:
        store.open(replace(layout, quantization=quantization), create=True)
        store.upsert(encoded)
        config = json.loads((store.path / "shard" / "edge_config.json").read_text())
        vectors = config["vectors"]
        assert set(vectors) == set(VECTOR_NAMES)
        for each in vectors.values():
            if quantization == "none":
                assert each.get("quantization_config") is None and each.get("memory") is None
            else:
                scalar = each["quantization_config"]["scalar"]
                assert scalar["type"] == "int8" and scalar["always_ram"] is True
                assert each["memory"] == "cold"  # float32 only to rescore: not held in RAM
        # Rescored with the float32 vectors: the scores are the exact cosines either way.
        query = encoded[3].question_vector
        assert query is not None
        hits = store.search(query, 3)
        exact = exact_ranking(encoded, query)[:3]
        assert ids(hits) == [entry_id for _, entry_id in exact]
        assert [h.score for h in hits] == pytest.approx([score for score, _ in exact], abs=1e-5)
    finally:
        store.close()


# ---- the embedded store persists ----------------------------------------------------------------


def test_edge_store_keeps_entries_across_close_and_reopen(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    first = EdgeStore(tmp_path / "store", "faq")
    first.open(layout, create=True)
    first.upsert(encoded)
    first.delete(encoded[0].entry.entry_id)
    before = ids(first.search(encoded[1].question_vector, 5))
    first.close()

    again = EdgeStore(tmp_path / "store", "faq")
    try:
        again.open(layout, create=False)
        assert again.count() == len(encoded) - 1
        assert again.get(encoded[0].entry.entry_id) is None
        got = again.get(encoded[1].entry.entry_id)
        assert got is not None
        assert got.answer == encoded[1].entry.answer
        assert ids(again.search(encoded[1].question_vector, 5)) == before
    finally:
        again.close()


def test_maintaining_the_edge_store_keeps_its_log_from_growing_under_writes(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    """Edge truncates its write-ahead log only on a flush: a service's adds and deletes made the
    store grow, in memory and on disk, for as long as it ran."""
    closed: dict[bool, list[str]] = {}
    sizes: dict[bool, int] = {}
    for maintained in (False, True):
        store = EdgeStore(tmp_path / f"maintained-{maintained}", "faq")
        store.open(layout, create=True)
        store.upsert(encoded)
        try:
            for round_ in range(6):
                churn(store, 4_000, layout.dim, seed=round_)
                if maintained:
                    store.maintain()
            assert store.count() == len(encoded)
            closed[maintained] = closed_log_segments(store.path)
            sizes[maintained] = disk_bytes(store.path)
        finally:
            store.close()
    assert len(closed[False]) >= 2
    assert len(closed[True]) <= 1
    assert sizes[True] < sizes[False] - 2**24

    again = EdgeStore(tmp_path / "maintained-True", "faq")
    try:
        again.open(layout, create=False)
        assert sorted(e.entry_id for e in again.entries()) == sorted(
            e.entry.entry_id for e in encoded
        )
        probe = encoded[1]
        assert probe.question_vector is not None
        assert ids(again.search(probe.question_vector, 1)) == [probe.entry.entry_id]
    finally:
        again.close()


def test_a_second_process_cannot_open_a_held_edge_store_nor_harm_it(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    """As faq-index does when it looks for the live version's vectors while faq-serve holds it.
    Edge's own lock used to be found only after its segments were loaded, which broke the
    holder's every later flush."""
    held = EdgeStore(tmp_path / "store", "faq")
    held.open(layout, create=True)
    held.upsert(encoded[:10])
    held.maintain()
    try:
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from faq_core.store.edge import EdgeStore; "
                "EdgeStore(sys.argv[1], 'faq').count()",
                str(tmp_path / "store"),
            ],
            capture_output=True,
            text=True,
        )
        assert other.returncode != 0
        assert "StoreUnavailable" in other.stderr and "in use by another process" in other.stderr
        held.upsert(encoded[10:20])
        held.maintain()
        assert held.count() == 20
    finally:
        held.close()


def test_edge_store_refuses_another_servable_after_reopen(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    first = EdgeStore(tmp_path / "store", "faq")
    first.open(layout, create=True)
    first.upsert(encoded[:3])
    first.close()
    with pytest.raises(ModelMismatch, match=r"re-index with faq-index"):
        EdgeStore(tmp_path / "store", "faq").open(replace(layout, model_id="another"), create=False)


def test_edge_collections_are_separate(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    a, b = EdgeStore(tmp_path / "store", "faq_a"), EdgeStore(tmp_path / "store", "faq_b")
    try:
        a.open(layout, create=True)
        a.upsert(encoded[:7])
        with pytest.raises(CollectionMissing, match=r"'faq_b'"):
            b.open(layout, create=False)
        b.open(layout, create=True)
        assert (a.count(), b.count()) == (7, 0)
    finally:
        a.close()
        b.close()


def test_edge_store_recovers_from_an_unfinished_creation(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    first = EdgeStore(tmp_path / "store", "faq")
    first.open(layout, create=True)
    first.close()
    # What a crash between creating the shard and writing the metadata leaves on disk.
    (tmp_path / "store" / "faq" / "metadata.json").unlink()
    again = EdgeStore(tmp_path / "store", "faq")
    try:
        again.open(layout, create=True)
        again.upsert(encoded[:5])
        assert again.count() == 5
    finally:
        again.close()


def test_a_server_catalog_opens_versions_with_its_collection_options() -> None:
    """Shards, replicas and the search beam chosen once apply to every version the catalog opens."""
    catalog = ServerCatalog(
        QdrantClient(location=":memory:"),
        "faq",
        shard_number=3,
        replication_factor=2,
        search=SearchTuning(hnsw_ef=48, oversampling=3.0),
    )
    store = catalog.store("v1")
    assert store.name == "faq--v1"
    assert (store.shard_number, store.replication_factor) == (3, 2)
    params = store._search_params
    assert params.hnsw_ef == 48
    assert params.quantization is not None and params.quantization.oversampling == 3.0
    default = ServerCatalog(QdrantClient(location=":memory:"), "faq").store("v1")._search_params
    assert default.hnsw_ef is None


# ---- the embedded store's failures are translated -----------------------------------------------


def test_edge_errors_become_store_unavailable(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    """Edge raises plain Exceptions; callers see StoreUnavailable, as from the server backend."""
    store = EdgeStore(tmp_path / "store", "faq")
    store.open(layout, create=True)
    store.upsert(encoded[:5])
    store.shard.close()  # a real Edge error from here on: its shard is closed under the store
    calls: dict[str, Callable[[], object]] = {
        "count": store.count,
        "ping": store.ping,
        "get": lambda: store.get(encoded[0].entry.entry_id),
        "search": lambda: store.search(encoded[0].answer_vector, 3),
        "upsert": lambda: store.upsert(encoded[5:6]),
        "maintain": store.maintain,
    }
    for name, call in calls.items():
        with pytest.raises(StoreUnavailable, match=r"Shard is not initialized"):
            call()
            pytest.fail(f"{name} did not raise")
    with pytest.raises(StoreUnavailable):
        store.close()


def test_only_edges_own_errors_are_translated(tmp_path: Path) -> None:
    """A bug (a TypeError, a KeyError) must not pass for an unavailable store."""
    edge_error = r"embedded store .*: Service runtime error: x"
    with pytest.raises(StoreUnavailable, match=edge_error), translated(tmp_path):
        raise Exception("Service runtime error: x")  # what Edge raises
    with pytest.raises(StoreUnavailable, match=r"in use by another process"), translated(tmp_path):
        raise Exception("Resource temporarily unavailable: WouldBlock")
    for bug in (TypeError("bad argument"), KeyError("answer")):
        with pytest.raises(type(bug)), translated(tmp_path):
            raise bug


def test_an_edge_store_whose_files_were_removed_is_unavailable_and_takes_no_write(
    tmp_path: Path, layout: CollectionLayout, encoded: list[EncodedEntry]
) -> None:
    store = EdgeStore(tmp_path / "store", "faq")
    store.open(layout, create=True)
    store.upsert(encoded[:5])
    store.maintain()
    shutil.rmtree(store.path / "shard")
    with pytest.raises(StoreUnavailable, match=r"files at .*shard are gone"):
        store.ping()
    with pytest.raises(StoreUnavailable, match=r"are gone"):
        store.upsert(encoded[5:6])  # Edge itself would take it, in files no restart finds
    with pytest.raises(StoreUnavailable, match=r"are gone"):
        store.delete(encoded[0].entry.entry_id)
    with pytest.raises(StoreUnavailable):
        store.close()
