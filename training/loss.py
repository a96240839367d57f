"""Symmetric multiple-negatives ranking loss with in-batch negatives, on cosine similarity."""

from __future__ import annotations

import torch
from torch.nn.functional import cross_entropy, normalize


def symmetric_mnr_loss(
    questions: torch.Tensor, answers: torch.Tensor, *, scale: float = 20.0
) -> torch.Tensor:
    """Row i of `questions` and of `answers` are a pair; every other row of the batch is a negative.

    Questions pick their answer among the batch's answers and answers their question among its
    questions; each also competes with the other questions (resp. answers) of the batch, as in
    the pool protocol where every text retrieves among all others.
    """
    q, a = normalize(questions, dim=-1), normalize(answers, dim=-1)
    labels = torch.arange(len(q), device=q.device)
    eye = torch.eye(len(q), dtype=torch.bool, device=q.device)
    qa = q @ a.T * scale
    qq = (q @ q.T * scale).masked_fill(eye, -torch.inf)
    aa = (a @ a.T * scale).masked_fill(eye, -torch.inf)
    q_logits = torch.cat([qa, qq], dim=1)
    a_logits = torch.cat([qa.T, aa], dim=1)
    return (cross_entropy(q_logits, labels) + cross_entropy(a_logits, labels)) / 2
