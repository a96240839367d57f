"""The embedding cache: encode once, load afterwards; another model or other texts encode afresh."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from faq_core.servable import Servable
from training.cache import EmbeddingCache, cache_key

TEXTS = [
    "how do i stop an instance?",
    "what is a bucket policy",
    "can i resize a disk while it runs",
]


def npy_files(directory: Path) -> set[str]:
    return {p.name for p in directory.glob("*.npy")}


def test_second_cache_on_the_same_directory_encodes_nothing(
    servable: Servable, tmp_path: Path
) -> None:
    first = EmbeddingCache(tmp_path / "cache", servable, servable.model_id)
    encoded = first.embed(TEXTS, "questions")
    assert (first.hits, first.misses) == (0, 1)
    assert np.allclose(encoded, servable.encode(TEXTS), atol=1e-6)
    files = npy_files(tmp_path / "cache")
    assert len(files) == 1

    second = EmbeddingCache(tmp_path / "cache", servable, servable.model_id)
    cached = second.embed(TEXTS, "questions")
    assert (second.hits, second.misses) == (1, 0)
    assert np.array_equal(cached, encoded)
    assert npy_files(tmp_path / "cache") == files


def test_other_texts_or_another_model_miss(servable: Servable, tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, servable, servable.model_id)
    cache.embed(TEXTS, "a")
    reordered = cache.embed(TEXTS[::-1], "b")
    assert cache.misses == 2
    assert np.allclose(reordered, cache.embed(TEXTS, "a")[::-1], atol=1e-6)
    assert (cache.hits, cache.misses) == (1, 2)

    other_model = EmbeddingCache(tmp_path, servable, "another-encoder")
    other_model.embed(TEXTS, "a")
    assert (other_model.hits, other_model.misses) == (0, 1)
    assert len(npy_files(tmp_path)) == 3


def test_cache_key_separates_texts_exactly() -> None:
    assert cache_key("m", ["a", "b"]) == cache_key("m", ["a", "b"])
    assert cache_key("m", ["a", "b"]) != cache_key("m", ["ab"])
    assert cache_key("m", ["a", "b"]) != cache_key("m", ["b", "a"])
    assert cache_key("m", ["a"]) != cache_key("n", ["a"])
    assert cache_key("m", ["a"]) != cache_key("m", ["a", ""])


def test_no_temporary_files_are_left(servable: Servable, tmp_path: Path) -> None:
    EmbeddingCache(tmp_path, servable, servable.model_id).embed(TEXTS[:1], "one")
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []
