"""Writes at runtime, at volume: entries added and deleted again, as a long-running service sees
them over days, without paying for encoding (random unit vectors stand in for embeddings)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faq_core.entries import FaqEntry
from faq_core.store.base import AnswerStore, EncodedEntry


def churn(store: AnswerStore, cycles: int, dim: int, seed: int = 0) -> None:
    """Adds an entry and deletes it again, `cycles` times."""
    rng = np.random.default_rng(seed)
    for i in range(cycles):
        vectors = rng.standard_normal((2, dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        entry = FaqEntry(
            answer=f"a temporary answer, number {i}", question=f"question {i}?", id=f"churn-{i}"
        )
        store.upsert([EncodedEntry(entry, vectors[0], vectors[1])])
        store.delete(entry.entry_id)


def disk_bytes(directory: Path) -> int:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())


def closed_log_segments(store_path: Path) -> list[str]:
    """The embedded store's full write-ahead-log segments (Edge names them `closed-N`); a flush
    drops those whose writes are all in the segments by then."""
    return sorted(f.name for f in store_path.rglob("wal/closed-*"))
