"""Frozen-encoder embeddings, computed once and kept on disk.

The key covers the encoder's weights and the exact texts, so a re-run with the same model and data
loads the file instead of encoding, and any change to either encodes afresh.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np

from faq_core.servable import Servable

log = logging.getLogger(__name__)


def cache_key(model_id: str, texts: list[str]) -> str:
    digest = hashlib.sha256(model_id.encode())
    for text in texts:
        digest.update(b"\x00" + text.encode())
    return digest.hexdigest()[:24]


class EmbeddingCache:
    """Embeddings of text lists under `directory`, one .npy file per (model, texts) key."""

    def __init__(self, directory: Path, encoder: Servable, encoder_id: str, batch_size: int = 64):
        self.directory = Path(directory)
        self.encoder = encoder
        self.encoder_id = encoder_id
        self.batch_size = batch_size
        self.hits = 0
        self.misses = 0

    def embed(self, texts: list[str], what: str) -> np.ndarray:
        file = self.directory / f"{cache_key(self.encoder_id, texts)}.npy"
        if file.is_file():
            self.hits += 1
            log.info("%s: %d embeddings from cache %s", what, len(texts), file.name)
            return np.load(file)
        self.misses += 1
        log.info("%s: encoding %d texts", what, len(texts))
        embeddings = self.encoder.encode(
            texts, batch_size=self.batch_size, progress=f"encoding {what}"
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp.npy")
        np.save(tmp, embeddings)
        tmp.replace(file)
        return embeddings
