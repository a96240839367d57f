"""The encoder class a servable's config.json names: a frozen sentence-transformers model.

It lives in the core, not in training/, because `SimilarityModel.load` imports it by module path
in the service process, which has no training code.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from quaterion_models.encoders import Encoder
from sentence_transformers import SentenceTransformer


class _TensorsIn(torch.nn.Module):
    """The sentence-transformers forward with tensors in and out, as tracing needs it."""

    def __init__(self, transformer: SentenceTransformer, keys: tuple[str, ...]) -> None:
        super().__init__()
        self.transformer = transformer
        self.keys = keys

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        embeddings: torch.Tensor = self.transformer(dict(zip(self.keys, tensors, strict=True)))[
            "sentence_embedding"
        ]
        return embeddings


class SentenceEncoder(Encoder):
    """Wraps a sentence-transformers model: texts in, pooled (normalized) embeddings out."""

    def __init__(self, transformer: SentenceTransformer) -> None:
        super().__init__()
        self.transformer = transformer
        self._graph: torch.jit.ScriptModule | None = None
        self._graph_inputs: tuple[str, ...] = ()

    def trace(self) -> None:
        """Run inference as a TorchScript graph from now on (the model must be on its device).

        The graph runs without Python, so without the GIL: encoding no longer queues behind the
        event loop of a busy service for every one of the model's layers. Inference only.
        """
        example = self.tokenize(["a short question", "and a rather longer question to pad against"])
        keys = tuple(k for k, v in example.items() if isinstance(v, torch.Tensor))
        device = next(self.transformer.parameters()).device
        tensors = tuple(example[k].to(device) for k in keys)
        # The tracer warns of the few Python branches on shapes it freezes: the mask padding and
        # causal checks of transformers' attention and the pooling's mask check. Each takes the
        # same branch for every batch a tokenizer pads (a mask as long as its inputs), which the
        # tests check on batches of other sizes and lengths than the example's; check_trace would
        # only re-run the example itself.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            wrapper = _TensorsIn(self.transformer, keys).eval()  # eval() reaches the transformer
            traced = torch.jit.trace(wrapper, tensors, check_trace=False)
            self._graph = torch.jit.freeze(traced)
        self._graph_inputs = keys

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
        if self._graph is not None:
            embeddings: torch.Tensor = self._graph(*(batch[k] for k in self._graph_inputs))
            return embeddings
        return self.transformer(batch)["sentence_embedding"]

    def save(self, output_path: str) -> None:
        self.transformer.save(output_path)

    @classmethod
    def load(cls, input_path: str) -> SentenceEncoder:
        # Always load on the CPU: the caller moves the whole model to its device afterwards,
        # so a servable trained on a GPU loads on a machine that has none.
        return cls(SentenceTransformer(input_path, device="cpu", local_files_only=True))
