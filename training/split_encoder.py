"""A sentence-transformers BERT model cut in two: frozen lower layers, trainable upper layers.

The lower part (embeddings and the first layers) never changes during training, so its token
outputs are computed once (see `training.layer_cache`) and only the upper layers run in each step:
on a 2-core CPU that is what makes fine-tuning the transformer itself affordable. Both halves call
the model's own modules, so `lower` then `upper` gives the same embedding as the whole model.
"""

from __future__ import annotations

from typing import Any, cast

import torch
from sentence_transformers import SentenceTransformer
from transformers.masking_utils import create_bidirectional_mask


def _run_layer(layer: torch.nn.Module, hidden: torch.Tensor, mask: Any) -> torch.Tensor:
    out = layer(hidden, mask)
    # Older transformers releases return a tuple from a layer, newer ones the tensor itself.
    return out[0] if isinstance(out, tuple) else out


class SplitEncoder:
    """Views of one SentenceTransformer (Transformer, Pooling[, Normalize]): no weights are copied,
    so training the upper layers trains the model that is saved afterwards."""

    def __init__(self, transformer: SentenceTransformer, trainable_layers: int) -> None:
        self.transformer = transformer
        self.bert: Any = cast(Any, transformer[0]).auto_model
        layers: torch.nn.ModuleList = self.bert.encoder.layer
        if not 0 <= trainable_layers <= len(layers):
            raise ValueError(
                f"trainable_layers must be in 0..{len(layers)}, got {trainable_layers}"
            )
        self.split = len(layers) - trainable_layers
        self.lower_layers = list(layers[: self.split])
        self.upper_layers = torch.nn.ModuleList(layers[self.split :])
        self.post = [transformer[i] for i in range(1, len(transformer))]  # pooling, normalize

    @property
    def dim(self) -> int:
        return int(self.bert.config.hidden_size)

    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        """Freeze everything but the upper layers and return their parameters."""
        for p in self.transformer.parameters():
            p.requires_grad = False
        params = list(self.upper_layers.parameters())
        for p in params:
            p.requires_grad = True
        return params

    def _mask(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> Any:
        return create_bidirectional_mask(
            config=self.bert.config, inputs_embeds=hidden, attention_mask=attention_mask
        )

    def tokenize(self, texts: list[str]) -> dict[str, torch.Tensor]:
        features = self.transformer.preprocess(texts)
        return {k: v for k, v in features.items() if isinstance(v, torch.Tensor)}

    @torch.no_grad()
    def lower(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Token outputs of the frozen lower part, [batch, tokens, dim]."""
        features = {k: v.to(self.bert.device) for k, v in features.items()}
        hidden = self.bert.embeddings(
            input_ids=features["input_ids"], token_type_ids=features.get("token_type_ids")
        )
        mask = self._mask(hidden, features["attention_mask"])
        for layer in self.lower_layers:
            hidden = _run_layer(layer, hidden, mask)
        return hidden

    def upper(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Sentence embeddings from lower-part token outputs (unit length when the model
        normalizes)."""
        hidden, attention_mask = hidden.to(self.bert.device), attention_mask.to(self.bert.device)
        mask = self._mask(hidden, attention_mask)
        for layer in self.upper_layers:
            hidden = _run_layer(layer, hidden, mask)
        features: dict[str, torch.Tensor] = {
            "token_embeddings": hidden,
            "attention_mask": attention_mask,
        }
        for module in self.post:
            features = module(features)
        return features["sentence_embedding"]

    def train(self, mode: bool = True) -> None:
        """Dropout in the upper layers while training; the lower part always runs in eval mode."""
        self.transformer.eval()
        self.upper_layers.train(mode)
