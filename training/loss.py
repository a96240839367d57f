"""Symmetric multiple-negatives ranking loss with in-batch negatives, on cosine similarity."""

from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy, normalize


def symmetric_mnr_loss(
    questions: torch.Tensor,
    answers: torch.Tensor,
    *,
    scale: float = 20.0,
    groups: torch.Tensor | None = None,
) -> torch.Tensor:
    """Row i of `questions` and of `answers` are a pair; every other row of the batch is a negative,
    but for rows of the same `group` (one answer asked in several ways: an entry's phrasings, a
    pair repeated): those are no negatives of each other.

    Questions pick their answer among the batch's answers and answers their question among its
    questions; each also competes with the other questions (resp. answers) of the batch, as in
    the pool protocol where every text retrieves among all others.
    """
    q, a = normalize(questions, dim=-1), normalize(answers, dim=-1)
    labels = torch.arange(len(q), device=q.device)
    eye = torch.eye(len(q), dtype=torch.bool, device=q.device)
    # The same answer again is not a wrong one: masked like the row itself on the same side, and
    # left out of the other side's choices.
    same = eye if groups is None else groups[:, None] == groups[None, :]
    others = same & ~eye
    qa = (q @ a.T * scale).masked_fill(others, -torch.inf)
    qq = (q @ q.T * scale).masked_fill(same, -torch.inf)
    aa = (a @ a.T * scale).masked_fill(same, -torch.inf)
    q_logits = torch.cat([qa, qq], dim=1)
    a_logits = torch.cat([qa.T, aa], dim=1)
    return (cross_entropy(q_logits, labels) + cross_entropy(a_logits, labels)) / 2
