"""A deployment's worth of everything faq-store exports, made through the store's own code paths:
entries from a data file (some with phrasings), entries added at runtime, phrasings added later,
and records in every log. Vectors are random unit vectors unless a servable encodes them: the
export and restore of points do not care what made them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from faq_core.entries import ORIGIN_KEY, RUNTIME_ORIGIN, FaqEntry, Phrasing
from faq_core.feedback import FeedbackEvent
from faq_core.reviews import Rejection, Review, pair_digest
from faq_core.sources import read_entries
from faq_core.store import Backend, CollectionLayout, EncodedEntry
from faq_core.store.dump import LOGS, lines_of
from faq_core.store.export import export_stream, header_for
from faq_core.unanswered import Candidate, UnansweredQuestion, pack_vector

DIM = 16
MODEL_ID = "test-servable"


def unit(rng: np.random.Generator, n: int = DIM) -> np.ndarray:
    v = rng.standard_normal(n).astype(np.float32)
    return v / np.linalg.norm(v)


def encoded(entry: FaqEntry, rng: np.random.Generator, dim: int = DIM) -> EncodedEntry:
    question = unit(rng, dim) if entry.question is not None else None
    phrasings = tuple(unit(rng, dim) for _ in entry.phrasings)
    return EncodedEntry(entry, unit(rng, dim), question, phrasings)


def fill(
    backend: Backend,
    data: Path,
    *,
    entries: int = 40,
    records: int = 3,
    seed: int = 0,
    dim: int = DIM,
    phrased_every: int = 4,
) -> None:
    """Fill `backend`'s collection: `entries` entries of `data` (every `phrased_every`-th with
    two phrasings of its own), five runtime entries, phrasings added to three entries, and
    `records` records in each log (unanswered: twice as many); random vectors of `dim`."""
    rng = np.random.default_rng(seed)
    _, store, _ = backend.catalog.open_or_create_live(CollectionLayout(dim, MODEL_ID))
    try:
        from_file = read_entries(data)[:entries]
        with_phrasings = [
            e.with_phrasings([Phrasing(f"{e.question} (way {k})") for k in (1, 2)])
            if i % phrased_every == 0
            else e
            for i, e in enumerate(from_file)
        ]
        store.upsert([encoded(e, rng, dim) for e in with_phrasings])
        runtime = [
            FaqEntry(
                answer=f"runtime answer {i}",
                question=f"runtime question {i}?",
                source="internal",
                extra={ORIGIN_KEY: RUNTIME_ORIGIN},
            )
            for i in range(5)
        ]
        store.upsert([encoded(e, rng, dim) for e in runtime])
        for entry in [*from_file[1:3], runtime[0]]:
            held = store.get(entry.entry_id)
            assert held is not None
            added = [Phrasing(f"added to {entry.entry_id[:8]} #{k}", added=True) for k in (1, 2)]
            store.add_phrasings(held, [(p, unit(rng, dim)) for p in added])
    finally:
        store.close()
    ids = [e.entry_id for e in from_file]
    feedback = backend.record_log("feedback", LOGS["feedback"])
    unanswered = backend.record_log("unanswered", LOGS["unanswered"])
    reviews = backend.record_log("reviews", LOGS["reviews"])
    rejections = backend.record_log("rejections", LOGS["rejections"])
    feedback.append_many(
        [
            FeedbackEvent(
                f"user question {i}",
                ids[i % len(ids)],
                i % 2 == 0,
                MODEL_ID,
                ranked=(ids[i % len(ids)],),
            )
            for i in range(records)
        ]
    )
    unanswered.append_many(
        [
            UnansweredQuestion(
                f"not covered {i}",
                "no_match",
                (Candidate(ids[i % len(ids)], 0.2),),
                model_id=MODEL_ID,
                vector=pack_vector(unit(rng, 384)),
            )
            for i in range(2 * records)
        ]
    )
    reviews.append_many(
        [
            Review(f"user question {i}", "attached", ids[i % len(ids)], model_id=MODEL_ID)
            for i in range(records)
        ]
    )
    rejections.append_many(
        [Rejection(pair_digest(f"not covered {i}", ids[i % len(ids)])) for i in range(records)]
    )


def export_bytes(backend: Backend, *, vectors: bool = True) -> bytes:
    """The export of `backend`'s live version and logs, as faq-store writes it."""
    live = backend.catalog.live()
    assert live is not None
    store = backend.catalog.store(live)
    try:
        return b"".join(export_stream(backend, store, header_for(backend, store, vectors=vectors)))
    finally:
        store.close()


def export_lines(data: bytes) -> Iterator[bytes]:
    return lines_of([data])


def body(data: bytes) -> list[dict[str, Any]]:
    """An export's lines after its header (which holds the time it was made)."""
    return [json.loads(line) for line in data.splitlines()[1:]]


def same_export(a: bytes, b: bytes, *, vectors_exact: bool = True) -> None:
    """Assert two exports hold the same: the same lines in the same order; vectors to the bit,
    or (through a server, which normalizes cosine vectors as it stores them) to 1e-6."""
    first, second = body(a), body(b)
    assert len(first) == len(second)
    if vectors_exact:
        assert first == second
        return
    from faq_core.store.dump import unpack

    dim = json.loads(a.splitlines()[0])["dim"]
    for x, y in zip(first, second, strict=True):
        assert replace_vectors(x) == replace_vectors(y)
        for name, packed in (x.get("vectors") or {}).items():
            got = np.array(unpack(y["vectors"][name], dim))
            assert np.abs(np.array(unpack(packed, dim)) - got).max() < 1e-6


def replace_vectors(line: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != "vectors"} | {
        "vectors": sorted(line.get("vectors") or {})
    }
