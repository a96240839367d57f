"""The store's search as the service runs it: its cost, and how often it finds the exact answers.

Questions from `--questions` (a JSON Lines file; the validation split by default) are encoded
with the servable and searched in batches of 16 (the service's batches at 32 clients), both named
vectors of every question in one call. Their top 3 is compared with brute force over the very
vectors the store holds. Prints JSON: milliseconds of search per question and the share of
questions whose top 3, in order, is the exact one. The store and servable are the settings'
(`FAQ_STORE_PATH`, `FAQ_MODEL_PATH`, ...), so this measures whatever `faq-index` built; the
quantization it reports is the setting's, which a version takes when `faq-index` builds it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from faq_core.servable import serving_model
from faq_core.settings import Settings
from faq_core.sources import read_entries
from faq_core.store import AnswerStore, SearchRequest, open_store

BATCH = 16
TOP_K = 3


def exact_top(store: AnswerStore, queries: np.ndarray) -> list[list[str]]:
    """Each query's top k by brute force: an entry scores its better cosine of its two vectors."""
    ids = [entry.entry_id for entry in store.entries()]
    encoded = [
        item
        for start in range(0, len(ids), 512)
        for item in store.get_encoded(ids[start : start + 512]).values()
    ]
    answers = np.stack([item.answer_vector for item in encoded])
    # An entry without a question is found by its answer only: its answer stands in for both.
    questions = np.stack(
        [
            item.question_vector if item.question_vector is not None else item.answer_vector
            for item in encoded
        ]
    )
    best = np.maximum(queries @ answers.T, queries @ questions.T)
    order = np.argsort(-best, axis=1, kind="stable")[:, :TOP_K]
    return [[encoded[i].entry.entry_id for i in row] for row in order]


def measure(questions_file: Path, repeats: int) -> dict[str, Any]:
    settings = Settings()
    servable = serving_model(settings)
    backend, store = open_store(settings, dim=servable.dim, model_id=servable.model_id)
    try:
        questions = [e.question for e in read_entries(questions_file) if e.question]
        queries = servable.encode(questions)
        requests = [SearchRequest(vector, TOP_K) for vector in queries]
        batches = [requests[i : i + BATCH] for i in range(0, len(requests), BATCH)]
        store.search_each(batches[0])  # warm up
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            found = [hits for batch in batches for hits in store.search_each(batch)]
            best = min(best, time.perf_counter() - started)
        exact = exact_top(store, queries)
        same = sum(
            [hit.entry.entry_id for hit in hits] == want
            for hits, want in zip(found, exact, strict=True)
        )
        return {
            "questions": len(questions),
            "questions_file": questions_file.name,
            "entries": store.count(),
            "hnsw_ef": settings.hnsw_ef,
            "store_quantization": settings.store_quantization,
            "search_ms_per_question": round(best / len(questions) * 1000, 3),
            "top3_exact_share": round(same / len(questions), 4),
        }
    finally:
        store.close()
        backend.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=Path, required=True, help="JSON Lines with questions")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts")
    args = parser.parse_args()
    print(json.dumps(measure(args.questions, args.repeats)))


if __name__ == "__main__":
    main()
