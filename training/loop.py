"""The training loop over cached embeddings: only the head learns, each epoch is evaluated."""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from faq_core.progress import progress_bar
from training.loss import symmetric_mnr_loss
from training.metrics import ask_retrieval, pool_retrieval


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    scale: float = 20.0
    skip_dropout: float = 0.0
    seed: int = 42

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class EpochRecord:
    epoch: int
    loss: float
    val_loss: float
    pool: dict[str, float]
    ask: dict[str, float]


@dataclass
class TrainResult:
    best_epoch: int
    history: list[EpochRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def best(self) -> EpochRecord:
        return next(r for r in self.history if r.epoch == self.best_epoch)


def _evaluate(head: torch.nn.Module, q: torch.Tensor, a: torch.Tensor, config: TrainConfig):
    head.eval()
    with torch.no_grad():
        hq, ha = head(q), head(a)
        loss = float(symmetric_mnr_loss(hq, ha, scale=config.scale))
    return loss, pool_retrieval(hq, ha).as_dict(), ask_retrieval(hq, ha).as_dict()


def train_head(
    head: torch.nn.Module,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    config: TrainConfig,
    *,
    progress: bool = True,
) -> TrainResult:
    """Train `head` in place; at the end it holds the weights of the epoch with the best val MRR
    (pool protocol). Epoch 0 is the untrained head, so training can only keep or improve it.
    """
    torch.manual_seed(config.seed)
    train_q, train_a = (torch.as_tensor(x, dtype=torch.float32) for x in train)
    val_q, val_a = (torch.as_tensor(x, dtype=torch.float32) for x in val)
    # No epochs: only evaluate (the head may then have no parameters at all, e.g. EmptyHead).
    optimizer = (
        torch.optim.AdamW(
            head.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        if config.epochs > 0
        else None
    )
    started = time.perf_counter()

    val_loss, pool, ask = _evaluate(head, val_q, val_a, config)
    result = TrainResult(best_epoch=0, history=[EpochRecord(0, float("nan"), val_loss, pool, ask)])
    best_state = copy.deepcopy(head.state_dict())
    bar = progress_bar(
        range(1, config.epochs + 1), desc="training head", unit="epoch", disable=not progress
    )
    for epoch in bar:
        head.train()
        order = torch.randperm(len(train_q))
        losses = []
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            if len(batch) < 2:
                continue
            loss = symmetric_mnr_loss(
                head(train_q[batch]), head(train_a[batch]), scale=config.scale
            )
            assert optimizer is not None
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        val_loss, pool, ask = _evaluate(head, val_q, val_a, config)
        result.history.append(EpochRecord(epoch, float(np.mean(losses)), val_loss, pool, ask))
        if pool["mrr"] > result.best.pool["mrr"]:
            result.best_epoch = epoch
            best_state = copy.deepcopy(head.state_dict())
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", mrr=pool["mrr"], best=result.best_epoch)
    head.load_state_dict(best_state)
    head.eval()
    result.seconds = time.perf_counter() - started
    return result
