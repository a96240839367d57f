"""The encoder class a servable's config.json names: a frozen sentence-transformers model.

It lives in the core, not in training/, because `SimilarityModel.load` imports it by module path
in the service process, which has no training code.
"""

from __future__ import annotations

from typing import Any

import torch
from quaterion_models.encoders import Encoder
from sentence_transformers import SentenceTransformer


class SentenceEncoder(Encoder):
    """Wraps a sentence-transformers model: texts in, pooled (normalized) embeddings out."""

    def __init__(self, transformer: SentenceTransformer) -> None:
        super().__init__()
        self.transformer = transformer

    @property
    def trainable(self) -> bool:
        return False

    @property
    def embedding_size(self) -> int:
        size = self.transformer.get_embedding_dimension()
        assert size is not None
        return int(size)

    def get_collate_fn(self) -> Any:
        return self.tokenize

    def tokenize(self, texts: list[str]) -> dict[str, Any]:
        """Pad to the longest text of the batch, truncate to the model's maximum length."""
        return dict(self.transformer.preprocess(texts))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.transformer(batch)["sentence_embedding"]

    def save(self, output_path: str) -> None:
        self.transformer.save(output_path)

    @classmethod
    def load(cls, input_path: str) -> SentenceEncoder:
        # Always load on the CPU: the caller moves the whole model to its device afterwards,
        # so a servable trained on a GPU loads on a machine that has none.
        return cls(SentenceTransformer(input_path, device="cpu", local_files_only=True))
