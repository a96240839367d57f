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
    but for rows of one answer asked in other words (an entry's phrasings, feedback on an entry):
    those are no negatives of each other. `groups` (n, 2): each row's answer, and which pair it
    is (`Pairs.loss_groups`).

    The copies of a repeated pair (`faq-train --feedback-repeat`) do stay negatives of each other:
    an identical question among the negatives keeps the pair's loss from saturating, so each copy
    pulls the question to its answer at full strength until they meet; that pull is what a repeat
    asks for (masked, the feedback loop's questions came first 14 times in 21 instead of 20 at
    repeat 5, 16 at repeat 15: docs/quality.md, "The feedback loop").

    Questions pick their answer among the batch's answers and answers their question among its
    questions; each also competes with the other questions (resp. answers) of the batch, as in
    the pool protocol where every text retrieves among all others.
    """
    q, a = normalize(questions, dim=-1), normalize(answers, dim=-1)
    labels = torch.arange(len(q), device=q.device)
    eye = torch.eye(len(q), dtype=torch.bool, device=q.device)
    # The same answer asked otherwise is not a wrong one: masked like the row itself on the same
    # side, and left out of the other side's choices.
    others = torch.zeros_like(eye)
    if groups is not None:
        answer, pair = groups[:, 0], groups[:, 1]
        others = (answer[:, None] == answer[None, :]) & (pair[:, None] != pair[None, :])
    same = others | eye
    qa = (q @ a.T * scale).masked_fill(others, -torch.inf)
    qq = (q @ q.T * scale).masked_fill(same, -torch.inf)
    aa = (a @ a.T * scale).masked_fill(same, -torch.inf)
    q_logits = torch.cat([qa, qq], dim=1)
    a_logits = torch.cat([qa.T, aa], dim=1)
    return (cross_entropy(q_logits, labels) + cross_entropy(a_logits, labels)) / 2
