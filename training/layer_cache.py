"""Token outputs of the frozen lower layers, computed once and kept on disk.

Fine-tuning only the upper layers needs, for every text, the lower part's output at each token. It
never changes during training, so it is computed once (texts shortest first, so batches pad
little), stored without padding as float16 (half the memory and disk; the upper layers see it as
float32) and reloaded when the same model, split and texts come again.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from faq_core.progress import progress_bar
from training.split_encoder import SplitEncoder

log = logging.getLogger(__name__)


@dataclass
class TokenStates:
    """Per-text token outputs, concatenated: rows offsets[i]:offsets[i+1] belong to text i."""

    states: torch.Tensor  # [total tokens, dim], float16
    offsets: np.ndarray  # [texts + 1]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def batch(self, indices: np.ndarray | list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded float32 states [batch, tokens, dim] and the attention mask [batch, tokens]."""
        lengths = [int(self.offsets[i + 1] - self.offsets[i]) for i in indices]
        hidden = torch.zeros(len(lengths), max(lengths), self.states.shape[1])
        mask = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
        for row, (i, n) in enumerate(zip(indices, lengths, strict=True)):
            start = int(self.offsets[i])
            hidden[row, :n] = self.states[start : start + n]
            mask[row, :n] = 1
        return hidden, mask

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def compute_states(
    encoder: SplitEncoder, texts: list[str], batch_size: int = 64, progress: str | None = None
) -> TokenStates:
    order = np.argsort([len(t) for t in texts], kind="stable")
    pieces: list[torch.Tensor | None] = [None] * len(texts)
    encoder.transformer.eval()
    starts = range(0, len(texts), batch_size)
    for start in progress_bar(starts, desc=progress, unit="batch", disable=progress is None):
        batch = order[start : start + batch_size]
        features = encoder.tokenize([texts[i] for i in batch])
        hidden = encoder.lower(features).to(device="cpu", dtype=torch.float16)
        for row, i in enumerate(batch):
            n = int(features["attention_mask"][row].sum())
            pieces[i] = hidden[row, :n].clone()
    lengths = [p.shape[0] for p in pieces if p is not None]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return TokenStates(torch.cat([p for p in pieces if p is not None]), offsets)


class LayerCache:
    """Lower-layer token outputs of text lists under `directory`, by model, split and texts."""

    def __init__(self, directory: Path, encoder: SplitEncoder, model_id: str, batch_size: int = 64):
        self.directory = Path(directory)
        self.encoder = encoder
        self.model_id = model_id
        self.batch_size = batch_size
        self.hits = 0
        self.misses = 0

    def key(self, texts: list[str]) -> str:
        digest = hashlib.sha256(f"{self.model_id}/lower{self.encoder.split}".encode())
        digest.update(str(self.encoder.transformer.max_seq_length).encode())
        for text in texts:
            digest.update(b"\x00" + text.encode())
        return digest.hexdigest()[:24]

    def states(self, texts: list[str], what: str) -> TokenStates:
        file = self.directory / f"{self.key(texts)}.npz"
        if file.is_file():
            self.hits += 1
            log.info(
                "%s: lower-layer states of %d texts from cache %s", what, len(texts), file.name
            )
            with np.load(file) as stored:
                return TokenStates(torch.from_numpy(stored["states"]), stored["offsets"])
        self.misses += 1
        log.info(
            "%s: running the lower %d layers on %d texts", what, self.encoder.split, len(texts)
        )
        result = compute_states(
            self.encoder, texts, self.batch_size, progress=f"lower layers, {what}"
        )
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp.npz")
        with tmp.open("wb") as handle:
            np.savez(handle, states=result.states.numpy(), offsets=result.offsets)
        tmp.replace(file)
        return result
