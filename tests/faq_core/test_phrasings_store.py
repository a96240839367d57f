"""Entries with several questions in the store, on both backends: each alternate phrasing is a
point of its own naming its entry; a search returns each entry once, with its best match.

The phrasings are StackFAQ's crowd-written rephrasings (../shared/data/stackfaq), encoded by the
session's trained servable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from faq_core.encoding import encode_entries, encoder_for
from faq_core.entries import FaqEntry, Phrasing
from faq_core.servable import Servable
from faq_core.sources import read_entries
from faq_core.store.base import (
    AnswerStore,
    CollectionLayout,
    EncodedEntry,
    Hit,
    PointFilter,
    SearchRequest,
)
from faq_core.store.carry import carry_runtime_entries
from tests.faq_core.test_store import BACKENDS, make_store

STACKFAQ = Path(__file__).resolve().parents[3] / "shared" / "data" / "stackfaq"
ENTRIES = 40


@pytest.fixture(scope="module")
def stackfaq() -> tuple[list[FaqEntry], list[dict[str, str]]]:
    """The first ENTRIES entries with their `a` phrasings attached, and their `b` phrasings."""
    entries = read_entries(STACKFAQ / "entries.jsonl")[:ENTRIES]
    rows = [json.loads(line) for line in (STACKFAQ / "phrasings.jsonl").read_text().splitlines()]
    wanted = {e.entry_id for e in entries}
    rows = [r for r in rows if r["entry_id"] in wanted]
    attached = [
        e.with_phrasings(
            [
                Phrasing(r["question"])
                for r in rows
                if r["entry_id"] == e.entry_id and r["half"] == "a"
            ]
        )
        for e in entries
    ]
    return attached, [r for r in rows if r["half"] == "b"]


@pytest.fixture(scope="module")
def encoded(
    servable: Servable, stackfaq: tuple[list[FaqEntry], list[dict[str, str]]]
) -> list[EncodedEntry]:
    return encode_entries(servable, stackfaq[0])


@pytest.fixture(scope="module")
def asked(
    servable: Servable, stackfaq: tuple[list[FaqEntry], list[dict[str, str]]]
) -> list[tuple[str, np.ndarray]]:
    """The `b` phrasings, as (right entry id, vector)."""
    rows = stackfaq[1]
    vectors = servable.encode([r["question"] for r in rows])
    return [(r["entry_id"], v) for r, v in zip(rows, vectors, strict=True)]


@pytest.fixture(scope="module")
def layout(servable: Servable) -> CollectionLayout:
    return CollectionLayout(servable.dim, servable.model_id)


@pytest.fixture(params=BACKENDS)
def filled(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    layout: CollectionLayout,
    encoded: list[EncodedEntry],
) -> Iterator[AnswerStore]:
    store = make_store(request.param, tmp_path)
    store.open(layout, create=True)
    store.upsert(encoded)
    yield store
    store.close()


def brute_force(
    encoded: list[EncodedEntry], query: np.ndarray
) -> list[tuple[float, str, str, str]]:
    """Every entry by its best cosine over its answer, question and phrasings: (score, entry id,
    what matched, the text)."""
    ranked = []
    for item in encoded:
        candidates = [(float(item.answer_vector @ query), "answer", None)]
        if item.question_vector is not None:
            candidates.append(
                (float(item.question_vector @ query), "question", item.entry.question)
            )
        candidates += [
            (float(v @ query), "alternate", p.text)
            for p, v in zip(item.entry.phrasings, item.phrasing_vectors, strict=True)
        ]
        score, kind, text = max(candidates, key=lambda c: c[0])
        ranked.append((score, item.entry.entry_id, kind, text))
    return sorted(ranked, key=lambda r: -r[0])


def ids(hits: list[Hit]) -> list[str]:
    return [h.entry.entry_id for h in hits]


def test_each_entry_comes_back_once_with_its_best_match_exactly_as_brute_force(
    filled: AnswerStore, encoded: list[EncodedEntry], asked: list[tuple[str, np.ndarray]]
) -> None:
    assert sum(len(item.entry.phrasings) for item in encoded) > 3 * len(encoded)
    kinds = set()
    for _, vector in asked[:60]:
        hits = filled.search(vector, 5)
        expected = brute_force(encoded, vector)[:5]
        assert ids(hits) == [r[1] for r in expected]
        assert [h.score for h in hits] == pytest.approx([r[0] for r in expected], abs=1e-3)
        assert [(h.matched, h.matched_text) for h in hits] == [(r[2], r[3]) for r in expected]
        kinds.update(h.matched for h in hits)
    assert kinds == {"answer", "question", "alternate"}


def test_a_question_matches_the_alternates_of_its_entry(
    filled: AnswerStore, asked: list[tuple[str, np.ndarray]]
) -> None:
    right = sum(
        filled.search(vector, 3)[0].entry.entry_id == entry_id for entry_id, vector in asked
    )
    assert right / len(asked) > 0.9


def test_an_entry_with_many_close_phrasings_does_not_crowd_out_the_others(
    filled: AnswerStore, servable: Servable, encoded: list[EncodedEntry]
) -> None:
    crowded = encoded[0].entry
    variants = [f"{crowded.question} ({n})" for n in range(60)]
    vectors = servable.encode(variants)
    stored = filled.get(crowded.entry_id)
    assert stored is not None
    filled.add_phrasings(
        stored, [(Phrasing(t, added=True), v) for t, v in zip(variants, vectors, strict=True)]
    )
    for top_k in (3, 10):
        hits = filled.search(vectors[0], top_k)
        assert len(hits) == top_k
        assert len(set(ids(hits))) == top_k
        assert hits[0].entry.entry_id == crowded.entry_id
        assert hits[0].matched == "alternate"


def test_phrasings_are_no_entries_in_counts_pages_and_sources(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    assert filled.count() == len(encoded)
    assert filled.count_by_source() == {"stackfaq": len(encoded)}
    entries, _ = filled.page(500)
    assert len(entries) == len(encoded)
    by_id = {item.entry.entry_id: item.entry for item in encoded}
    for entry in entries:
        assert entry.questions == by_id[entry.entry_id].questions
    assert {e.entry_id for e in filled.entries()} == set(by_id)


def test_added_phrasings_follow_the_given_ones_and_repeat_nothing(
    filled: AnswerStore, servable: Servable, encoded: list[EncodedEntry]
) -> None:
    entry = filled.get(encoded[2].entry.entry_id)
    assert entry is not None and entry.phrasings
    given = entry.questions
    new = [
        "How can I write crossed out words?",
        "  how can i WRITE crossed out words? ",
        given[1].upper(),
    ]
    vectors = servable.encode(new)
    added = filled.add_phrasings(
        entry, [(Phrasing(t, True), v) for t, v in zip(new, vectors, strict=True)]
    )
    assert added == 1  # the second is the first again, the third one the entry has
    again = filled.get(entry.entry_id)
    assert again is not None
    assert again.questions == (*given, new[0])
    assert again.phrasings[-1] == Phrasing(new[0], added=True)
    assert filled.add_phrasings(again, [(Phrasing(new[0], True), vectors[0])]) == 0
    hit = filled.search(vectors[0], 1)[0]
    assert (hit.entry.entry_id, hit.matched, hit.matched_text) == (
        entry.entry_id,
        "alternate",
        new[0],
    )


def test_posting_an_entry_again_replaces_its_given_phrasings_and_keeps_the_added_ones(
    filled: AnswerStore, servable: Servable, encoded: list[EncodedEntry]
) -> None:
    item = encoded[3]
    entry = filled.get(item.entry.entry_id)
    assert entry is not None
    extra = "Where is the setting for this?"
    filled.add_phrasings(entry, [(Phrasing(extra, True), servable.encode([extra])[0])])
    kept = item.entry.phrasings[:1]
    dropped = item.entry.phrasings[1:]
    assert dropped
    filled.upsert(encode_entries(servable, [replace(item.entry, phrasings=kept)]))
    again = filled.get(item.entry.entry_id)
    assert again is not None
    assert again.phrasings == (*kept, Phrasing(extra, added=True))
    for phrasing in dropped:
        hits = filled.search(servable.encode([phrasing.text])[0], 3)
        assert all(h.matched_text != phrasing.text for h in hits)


def test_an_entry_moved_to_another_source_is_found_by_its_phrasings_there(
    filled: AnswerStore, servable: Servable, encoded: list[EncodedEntry]
) -> None:
    item = encoded[4]
    entry = filled.get(item.entry.entry_id)
    assert entry is not None
    extra = "is there any shortcut for that"
    filled.add_phrasings(entry, [(Phrasing(extra, True), servable.encode([extra])[0])])
    moved = replace(item.entry, id=item.entry.entry_id, source="moved")
    filled.upsert(encode_entries(servable, [moved]))
    for text in (item.entry.phrasings[0].text, extra):
        hits = filled.search(servable.encode([text])[0], 3, source="moved")
        assert [(h.entry.entry_id, h.matched_text) for h in hits] == [(moved.entry_id, text)]
        assert all(
            h.entry.entry_id != moved.entry_id
            for h in filled.search(servable.encode([text])[0], 5, source="stackfaq")
        )


def test_deleting_a_phrasing_or_an_entry_removes_its_points(
    filled: AnswerStore, encoded: list[EncodedEntry]
) -> None:
    item = encoded[5]
    gone = item.entry.phrasings[0]
    assert filled.delete_phrasing(item.entry.entry_id, gone.text.upper()) is True
    assert filled.delete_phrasing(item.entry.entry_id, gone.text) is False
    entry = filled.get(item.entry.entry_id)
    assert entry is not None and gone not in entry.phrasings
    assert entry.phrasings == item.entry.phrasings[1:]
    points = filled._count(PointFilter())
    assert filled.delete(item.entry.entry_id) is True
    assert filled._count(PointFilter()) == points - 1 - len(entry.phrasings)
    for vector in item.phrasing_vectors:
        assert item.entry.entry_id not in ids(filled.search(vector, 5))


def test_stored_vectors_copied_into_another_store_search_the_same(
    filled: AnswerStore,
    tmp_path: Path,
    layout: CollectionLayout,
    encoded: list[EncodedEntry],
    asked: list[tuple[str, np.ndarray]],
) -> None:
    stored = filled.get_encoded([item.entry.entry_id for item in encoded])
    assert {eid: item.entry.questions for eid, item in stored.items()} == {
        item.entry.entry_id: item.entry.questions for item in encoded
    }
    for item in encoded:
        copy = stored[item.entry.entry_id]
        for mine, theirs in zip(item.phrasing_vectors, copy.phrasing_vectors, strict=True):
            np.testing.assert_allclose(mine, theirs, atol=1e-5)
    other = make_store("edge", tmp_path / "other")
    try:
        other.open(layout, create=True)
        other.upsert(list(stored.values()))
        requests = [SearchRequest(v, 3) for _, v in asked[:30]]
        assert [ids(h) for h in other.search_each(requests)] == [
            ids(h) for h in filled.search_each(requests)
        ]
    finally:
        other.close()


@pytest.mark.parametrize("same_servable", [True, False], ids=["copied", "encoded"])
def test_a_new_version_gets_the_runtime_entries_and_the_phrasings_added_to_any_entry(
    filled: AnswerStore,
    tmp_path: Path,
    layout: CollectionLayout,
    servable: Servable,
    encoded: list[EncodedEntry],
    same_servable: bool,
) -> None:
    runtime = FaqEntry(
        answer="Our office cat is called Tofu.",
        question="what is the office cat called?",
        extra={"origin": "api"},
    ).with_phrasings([Phrasing("the cat's name?")])
    filled.upsert(encode_entries(servable, [runtime]))
    file_entry = filled.get(encoded[6].entry.entry_id)
    assert file_entry is not None
    extra = "strike out words in a github comment"
    filled.add_phrasings(file_entry, [(Phrasing(extra, True), servable.encode([extra])[0])])
    stray = filled.get(encoded[7].entry.entry_id)
    assert stray is not None
    filled.add_phrasings(
        stray, [(Phrasing("left behind", True), servable.encode(["left behind"])[0])]
    )

    target = make_store("edge", tmp_path / "next")
    try:
        target.open(layout, create=True)
        # The new version's file lacks encoded[7]: its added phrasing has no entry to go to.
        target.upsert([i for i in encoded if i is not encoded[7]])
        encoder = None if same_servable else encoder_for(servable)
        carried = carry_runtime_entries(filled, target, encoder)
        assert (carried.entries, carried.phrasings) == (1, 1)
        got = target.get(runtime.entry_id)
        assert got is not None and got.questions == runtime.questions
        moved = target.get(file_entry.entry_id)
        assert moved is not None and moved.phrasings[-1] == Phrasing(extra, added=True)
        hit = target.search(servable.encode([extra])[0], 1)[0]
        assert (hit.entry.entry_id, hit.matched_text) == (file_entry.entry_id, extra)
        assert hit.score == pytest.approx(1.0, abs=1e-3)
        again = carry_runtime_entries(filled, target, encoder)
        assert (again.entries, again.phrasings) == (0, 0)
    finally:
        target.close()


def test_both_backends_answer_alike_with_phrasings(
    tmp_path: Path,
    layout: CollectionLayout,
    encoded: list[EncodedEntry],
    asked: list[tuple[str, np.ndarray]],
) -> None:
    """The congruence of the two backends, on entries with phrasings: the same entries, scores,
    matches and texts, a source filter included."""
    stores = [make_store(kind, tmp_path / kind) for kind in BACKENDS]
    try:
        for store in stores:
            store.open(layout, create=True)
            store.upsert(encoded)
        requests = [SearchRequest(v, 4) for _, v in asked[:40]]
        requests += [SearchRequest(v, 2, source="stackfaq") for _, v in asked[40:50]]
        edge, server = (store.search_each(requests) for store in stores)
        for mine, theirs in zip(edge, server, strict=True):
            assert [(h.entry.entry_id, h.matched, h.matched_text) for h in mine] == [
                (h.entry.entry_id, h.matched, h.matched_text) for h in theirs
            ]
            assert [h.score for h in mine] == pytest.approx([h.score for h in theirs], abs=1e-3)
        assert stores[0].count() == stores[1].count() == len(encoded)
    finally:
        for store in stores:
            store.close()
