"""The fit skeleton both training loops share, on a tiny real module and real AdamW steps."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch

from training.fit import Evaluation, TrainResult, fit
from training.loss import symmetric_mnr_loss


@dataclass(frozen=True)
class Config:
    epochs: int = 6
    learning_rate: float = 0.05
    weight_decay: float = 0.0
    seed: int = 7


def pairs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Questions and answers that a linear map brings together: each answer is a fixed rotation
    of its question, plus a little noise."""
    generator = torch.Generator().manual_seed(seed)
    rotation = torch.linalg.qr(torch.randn(8, 8, generator=torch.Generator().manual_seed(0)))[0]
    questions = torch.randn(n, 8, generator=generator)
    answers = questions @ rotation + 0.1 * torch.randn(n, 8, generator=generator)
    return questions, answers


class Run:
    """A fit of a small Linear+Dropout module whose evaluation also keeps a copy of the weights
    it measured, so each epoch's weights can be compared with what the model ends up holding."""

    def __init__(self, val: tuple[torch.Tensor, torch.Tensor], seed: int = 3) -> None:
        torch.manual_seed(seed)
        self.model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Dropout(0.1))
        self.initial = copy.deepcopy(self.model.state_dict())
        self.train_q, self.train_a = pairs(64, seed=1)
        self.val = val
        self.states: list[dict[str, torch.Tensor]] = []
        self.evaluations: list[Evaluation] = []
        self.modes_in_steps: set[bool] = set()

    def batches(self, epoch: int) -> list[torch.Tensor]:
        return list(torch.randperm(len(self.train_q)).split(16))

    def loss(self, batch: torch.Tensor) -> torch.Tensor:
        self.modes_in_steps.add(self.model.training)
        return symmetric_mnr_loss(self.model(self.train_q[batch]), self.model(self.train_a[batch]))

    def evaluate(self) -> Evaluation:
        self.model.eval()
        with torch.no_grad():
            evaluation = Evaluation.of(self.model(self.val[0]), self.model(self.val[1]), 20.0)
        self.states.append(copy.deepcopy(self.model.state_dict()))
        self.evaluations.append(evaluation)
        return evaluation

    def fit(
        self, config: Config = Config(), lr_factor: Callable[[int], float] | None = None
    ) -> TrainResult:
        return fit(
            self.model,
            config,
            batches=self.batches,
            loss=self.loss,
            evaluate=self.evaluate,
            lr_factor=lr_factor,
            desc="test",
            progress=False,
        )


def same_state(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_history_is_every_epoch_in_order_from_the_model_as_given() -> None:
    run = Run(val=pairs(32, seed=2))
    result = run.fit()
    assert [r.epoch for r in result.history] == list(range(Config.epochs + 1))
    assert math.isnan(result.history[0].loss)
    assert all(r.loss > 0 for r in result.history[1:])
    assert [(r.val_loss, r.pool, r.ask) for r in result.history] == [
        (e.loss, e.pool, e.ask) for e in run.evaluations
    ]
    assert same_state(run.states[0], run.initial)  # epoch 0: not a step taken yet
    assert result.seconds > 0


def test_keeps_the_epoch_with_the_best_pool_mrr_and_its_weights() -> None:
    run = Run(val=pairs(32, seed=2))  # held-out pairs of the same rotation: training helps
    result = run.fit(Config(epochs=4))
    mrrs = [r.pool["mrr"] for r in result.history]
    assert 0 < result.best_epoch == mrrs.index(max(mrrs)) < 4  # (this seed's best is epoch 3)
    assert result.best == result.history[result.best_epoch]
    assert same_state(run.model.state_dict(), run.states[result.best_epoch])
    assert not same_state(run.model.state_dict(), run.states[-1])
    assert not run.model.training  # left in eval mode
    assert run.modes_in_steps == {True}  # every step ran in training mode (dropout on)


def test_keeps_the_model_as_given_when_no_epoch_beats_it() -> None:
    """Validation pairs whose answer is their question: every map scores MRR 1 on them, so each
    epoch ties with epoch 0, and on a tie the earlier epoch is kept."""
    questions, _ = pairs(32, seed=2)
    run = Run(val=(questions, questions.clone()))
    result = run.fit()
    assert [r.pool["mrr"] for r in result.history] == [1.0] * (Config.epochs + 1)
    assert result.best_epoch == 0
    assert not same_state(run.states[-1], run.initial)  # it did learn...
    assert same_state(run.model.state_dict(), run.initial)  # ...and kept none of it


def test_the_same_seed_fits_the_same_weights() -> None:
    first, second = Run(val=pairs(32, seed=2)), Run(val=pairs(32, seed=2))
    a, b = first.fit(), second.fit()
    assert [r.pool for r in a.history] == [r.pool for r in b.history]
    assert same_state(first.model.state_dict(), second.model.state_dict())
    third = Run(val=pairs(32, seed=2))
    third.fit(Config(seed=8))
    assert not same_state(third.states[-1], first.states[-1])


def test_the_learning_rate_factor_scales_every_step() -> None:
    run = Run(val=pairs(32, seed=2))
    run.fit(lr_factor=lambda step: 0.0)
    assert all(same_state(state, run.initial) for state in run.states)


@pytest.mark.parametrize("progress", [True, False])
def test_no_epochs_only_evaluates_a_model_that_may_have_no_parameters(progress: bool) -> None:
    identity = torch.nn.Identity()
    val = pairs(16, seed=2)

    def evaluate() -> Evaluation:
        return Evaluation.of(identity(val[0]), identity(val[1]), 20.0)

    result = fit(
        identity,
        Config(epochs=0),
        batches=lambda epoch: pytest.fail("no epoch, no batches"),
        loss=lambda batch: pytest.fail("no epoch, no step"),
        evaluate=evaluate,
        desc="test",
        progress=progress,
    )
    assert [r.epoch for r in result.history] == [0] and result.best_epoch == 0
    assert result.best.pool == evaluate().pool
