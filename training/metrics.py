"""Retrieval quality in the two protocols of docs/design.md, on embeddings.

pool: every question and every answer retrieves among all the others (itself excluded); its pair
partner is the one relevant item. ask: answers are indexed, each question is asked, its own answer
is the relevant one. Search is exact cosine, as the store's HNSW is at this size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Retrieval:
    precision_at_1: float
    mrr: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def _normalized(x: np.ndarray | torch.Tensor) -> torch.Tensor:
    t = torch.as_tensor(x, dtype=torch.float32)
    return torch.nn.functional.normalize(t, dim=-1)


def _ranks(scores: torch.Tensor, relevant: torch.Tensor) -> torch.Tensor:
    """1-based rank of each row's relevant column; ties count in the item's favour."""
    target = scores.gather(1, relevant[:, None])
    return (scores > target).sum(dim=1) + 1


def _summary(ranks: torch.Tensor) -> Retrieval:
    ranks_f = ranks.double()
    return Retrieval(float((ranks == 1).double().mean()), float((1.0 / ranks_f).mean()))


def pool_retrieval(
    questions: np.ndarray | torch.Tensor, answers: np.ndarray | torch.Tensor
) -> Retrieval:
    x = torch.cat([_normalized(questions), _normalized(answers)])
    n = len(questions)
    scores = x @ x.T
    scores.fill_diagonal_(-torch.inf)
    partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return _summary(_ranks(scores, partner))


def ask_retrieval(
    questions: np.ndarray | torch.Tensor, answers: np.ndarray | torch.Tensor
) -> Retrieval:
    scores = _normalized(questions) @ _normalized(answers).T
    return _summary(_ranks(scores, torch.arange(len(questions))))


def first_answers(
    questions: np.ndarray | torch.Tensor, answers: np.ndarray | torch.Tensor
) -> tuple[np.ndarray, np.ndarray]:
    """Score of each question's first answer (ask protocol) and whether it is the right one."""
    scores = _normalized(questions) @ _normalized(answers).T
    best = scores.max(dim=1)
    correct = best.indices == torch.arange(len(questions))
    return best.values.numpy(), correct.numpy()
