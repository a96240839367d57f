"""The fit skeleton both training loops share (`training.loop`, `training.encoder_loop`).

Epoch 0 is the model as given, evaluated on the validation pairs; each epoch after it is one pass
of AdamW steps over that epoch's batches, then the same evaluation. At the end the model holds the
weights of the epoch with the best validation pool MRR (the earliest on a tie), so fitting can
only keep or improve what it was given. A loop supplies only what is its own: the epoch's batches,
a batch's loss and the evaluation.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import numpy as np
import torch

from faq_core.progress import progress_bar
from training.loss import symmetric_mnr_loss
from training.metrics import ask_retrieval, pool_retrieval

Batch = TypeVar("Batch")


class FitConfig(Protocol):
    """The settings the skeleton reads (both loops' configs have them)."""

    @property
    def epochs(self) -> int: ...
    @property
    def learning_rate(self) -> float: ...
    @property
    def weight_decay(self) -> float: ...
    @property
    def seed(self) -> int: ...


@dataclass(frozen=True)
class Evaluation:
    """The model on the validation pairs: the loss, and both retrieval protocols."""

    loss: float
    pool: dict[str, float]
    ask: dict[str, float]

    @classmethod
    def of(cls, questions: torch.Tensor, answers: torch.Tensor, scale: float) -> Evaluation:
        """Of the validation pairs' embeddings (pair i: row i of each)."""
        loss = float(symmetric_mnr_loss(questions, answers, scale=scale))
        return cls(
            loss,
            pool_retrieval(questions, answers).as_dict(),
            ask_retrieval(questions, answers).as_dict(),
        )


@dataclass
class EpochRecord:
    epoch: int
    loss: float  # mean training loss over the epoch's batches; NaN for epoch 0
    val_loss: float
    pool: dict[str, float]
    ask: dict[str, float]


@dataclass
class TrainResult:
    best_epoch: int
    history: list[EpochRecord] = field(default_factory=list)  # epoch 0 first, in epoch order
    seconds: float = 0.0

    @property
    def best(self) -> EpochRecord:
        return next(r for r in self.history if r.epoch == self.best_epoch)

    def add(self, epoch: int, loss: float, evaluation: Evaluation) -> bool:
        """Record an epoch; True when it is the new best (a higher pool MRR than the best's)."""
        self.history.append(
            EpochRecord(epoch, loss, evaluation.loss, evaluation.pool, evaluation.ask)
        )
        if epoch == 0 or evaluation.pool["mrr"] > self.best.pool["mrr"]:
            self.best_epoch = epoch
            return True
        return False


def fit(
    model: torch.nn.Module,
    config: FitConfig,
    *,
    batches: Callable[[int], Sequence[Batch]],
    loss: Callable[[Batch], torch.Tensor],
    evaluate: Callable[[], Evaluation],
    lr_factor: Callable[[int], float] | None = None,
    desc: str,
    progress: bool = True,
) -> TrainResult:
    """Fit `model`'s parameters in place with AdamW and return each epoch's record.

    `batches(epoch)` is called at the start of each epoch, in training mode, after the RNG was
    seeded with `config.seed`; `loss(batch)` is one step's loss; `evaluate()` measures the model
    on the validation pairs (it sets the mode it needs). `lr_factor(step)`, if given, scales the
    learning rate at each step. At the end `model` holds the best epoch's weights, in eval mode.
    With no epochs only epoch 0 is evaluated (the model may then have no parameters at all).
    """
    torch.manual_seed(config.seed)
    optimizer = schedule = None
    if config.epochs > 0:
        optimizer = torch.optim.AdamW(
            model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        if lr_factor is not None:
            schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
    started = time.perf_counter()

    result = TrainResult(best_epoch=0)
    result.add(0, float("nan"), evaluate())
    best_state = copy.deepcopy(model.state_dict())
    bar = progress_bar(total=0, desc=desc, unit="batch", disable=not progress or config.epochs == 0)
    for epoch in range(1, config.epochs + 1):
        assert optimizer is not None
        model.train()
        epoch_batches = batches(epoch)
        bar.total = bar.n + len(epoch_batches) * (config.epochs - epoch + 1)
        losses = []
        for batch in epoch_batches:
            batch_loss = loss(batch)
            optimizer.zero_grad()
            batch_loss.backward()
            optimizer.step()
            if schedule is not None:
                schedule.step()
            losses.append(batch_loss.item())
            bar.set_postfix(
                epoch=f"{epoch}/{config.epochs}",
                loss=f"{np.mean(losses[-20:]):.3f}",
                best=result.best_epoch,
                refresh=False,
            )
            bar.update()
        if result.add(epoch, float(np.mean(losses)), evaluate()):
            best_state = copy.deepcopy(model.state_dict())
    bar.close()
    model.load_state_dict(best_state)
    model.eval()
    result.seconds = time.perf_counter() - started
    return result
