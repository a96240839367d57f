"""The encoder class a servable's config.json names: a frozen sentence-transformers model.

It lives in the core, not in training/, because `SimilarityModel.load` imports it by module path
in the service process, which has no training code.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from quaterion_models.encoders import Encoder
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Pooling, Transformer

from faq_core.packing import PACKED_KEYS, pack_rows


class _DropMessages(logging.Filter):
    def __init__(self, fragment: str) -> None:
        super().__init__()
        self.fragment = fragment

    def filter(self, record: logging.LogRecord) -> bool:
        return self.fragment not in record.getMessage()


@contextmanager
def _training_properties_quiet() -> Iterator[None]:
    """While tracing: torch.jit.trace reads every attribute of every module, looking for
    exported methods, and on a transformers model that reads properties meant for training,
    which warn: `loss_function` ("loss_type=None ... ForCausalLMLoss", at every model load) and
    the deprecated `is_gradient_checkpointing`. Only those two messages are dropped."""
    logger = logging.getLogger("transformers.modeling_utils")
    drop = _DropMessages("ForCausalLMLoss")
    logger.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=".*is_gradient_checkpointing", category=FutureWarning
            )
            yield
    finally:
        logger.removeFilter(drop)


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


class _PackedForward(torch.nn.Module):
    """The same embeddings from packed rows: several texts side by side in one row, each token
    attending only to its own text's tokens, each text's positions counted from its own start,
    and each text's tokens averaged as the model's mean pooling does (see faq_core/packing.py)."""

    def __init__(self, transformer: SentenceTransformer, row_tokens: int) -> None:
        super().__init__()
        self.row_tokens = row_tokens
        first = transformer[0]
        assert isinstance(first, Transformer)
        self.backbone = first.auto_model
        self.after_pooling = torch.nn.ModuleList(list(transformer)[2:])  # Normalize, Dense, ...

    def forward(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        segments: torch.Tensor,
        pooling: torch.Tensor,
    ) -> torch.Tensor:
        # A 4-D boolean mask reaches the attention as it is: True where query and key tokens are
        # of the same text. Padding (segment -1) attends only to padding and is never pooled.
        mask = (segments[:, :, None] == segments[:, None, :])[:, None]
        hidden = self.backbone(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=position_ids,
            token_type_ids=torch.zeros_like(input_ids),
        ).last_hidden_state
        # Pooled in float32 whatever the encoder's precision: the head takes float32, and
        # bfloat16 kernels keep state per shape, of which the number of texts would add more.
        features = {"sentence_embedding": pooling @ hidden.flatten(0, 1).float()}
        for module in self.after_pooling:
            features = module(features)
        embeddings: torch.Tensor = features["sentence_embedding"]
        return embeddings


class SentenceEncoder(Encoder):
    """Wraps a sentence-transformers model: texts in, pooled (normalized) embeddings out."""

    def __init__(self, transformer: SentenceTransformer) -> None:
        super().__init__()
        self.transformer = transformer
        self._graph: torch.jit.ScriptModule | None = None
        self._graph_inputs: tuple[str, ...] = ()
        self._packed: _PackedForward | None = None  # None: pad each text to the batch's longest
        self._buckets = False

    @property
    def packable(self) -> bool:
        """Whether `pack` gives this model's embeddings exactly: a BERT model (absolute positions
        the caller may set, masks of any shape) followed by mean pooling."""
        modules = list(self.transformer)
        return (
            len(modules) >= 2
            and isinstance(modules[0], Transformer)
            and getattr(modules[0].auto_model.config, "model_type", None) == "bert"
            and isinstance(modules[1], Pooling)
            and modules[1].pooling_mode == "mean"
        )

    def pack(self, row_tokens: int = 64, *, buckets: bool = False) -> bool:
        """Encode texts packed into rows of about `row_tokens` tokens from now on, not padded to
        the longest text of the batch; False (and nothing changes) when the model is not packable.
        With `buckets`, batches are padded to a few shapes (faq_core.packing.bucketed).

        Questions of concurrent users differ in length: padded, a batch of 32 costs as if every
        question were as long as the longest. Packed, it costs what its tokens cost. Inference only.
        """
        if not self.packable:
            return False
        self._packed = _PackedForward(self.transformer, row_tokens).eval()
        self._buckets = buckets
        return True

    def trace(self) -> None:
        """Run inference as a TorchScript graph from now on (the model must be on its device).

        The graph runs without Python, so without the GIL: encoding no longer queues behind the
        event loop of a busy service for every one of the model's layers. Inference only. Call
        `pack` first to trace the packed forward.
        """
        example = self.get_collate_fn()(
            ["a short question", "and a rather longer question to pad against"]
        )
        keys = tuple(k for k, v in example.items() if isinstance(v, torch.Tensor))
        device = next(self.transformer.parameters()).device
        tensors = tuple(example[k].to(device) for k in keys)
        wrapper = self._packed if self._packed is not None else _TensorsIn(self.transformer, keys)
        # The tracer warns of the few Python branches on shapes it freezes: the mask checks of
        # transformers' attention and the pooling's mask check. Each takes the same branch for
        # every batch this encoder collates, which the tests check on batches of other sizes and
        # lengths than the example's; check_trace would only re-run the example itself.
        with torch.inference_mode(), warnings.catch_warnings(), _training_properties_quiet():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            traced = torch.jit.trace(wrapper.eval(), tensors, check_trace=False)
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
        return self.tokenize if self._packed is None else self.tokenize_packed

    def tokenize(self, texts: list[str]) -> dict[str, Any]:
        """Pad to the longest text of the batch, truncate to the model's maximum length."""
        return dict(self.transformer.preprocess(texts))

    def tokenize_packed(self, texts: list[str]) -> dict[str, torch.Tensor]:
        """Tokenized as `tokenize` does, then packed into rows (see `pack`)."""
        assert self._packed is not None, "pack() first"
        padded = self.tokenize(texts)
        return pack_rows(
            padded["input_ids"],
            padded["attention_mask"],
            self._packed.row_tokens,
            buckets=self._buckets,
        )

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        if self._graph is not None:
            embeddings: torch.Tensor = self._graph(*(batch[k] for k in self._graph_inputs))
            return embeddings
        if self._packed is not None:
            return self._packed(*(batch[k] for k in PACKED_KEYS))
        return self.transformer(batch)["sentence_embedding"]

    def save(self, output_path: str) -> None:
        self.transformer.save(output_path)

    @classmethod
    def load(cls, input_path: str) -> SentenceEncoder:
        # Always load on the CPU: the caller moves the whole model to its device afterwards,
        # so a servable trained on a GPU loads on a machine that has none.
        return cls(SentenceTransformer(input_path, device="cpu", local_files_only=True))
