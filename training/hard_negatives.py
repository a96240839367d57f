"""Hard negatives: for each training pair, a text the current model confuses with its partner.

In-batch negatives are mostly easy (a random other FAQ entry); the pool protocol is lost on the
near misses, e.g. the snapshot answer of another product. So each question also competes with an
answer drawn from its nearest wrong answers, and each answer with one of its nearest wrong
questions. Texts equal to the partner's (answers such as "yes") are never taken as negatives.
"""

from __future__ import annotations

import numpy as np
import torch


def _nearest_wrong(
    queries: torch.Tensor,
    candidates: torch.Tensor,
    candidate_texts: list[str],
    depth: int,
    rng: np.random.Generator,
    chunk: int = 1024,
) -> np.ndarray:
    n = len(queries)
    keys = np.unique(candidate_texts, return_inverse=True)[1]
    keys_t = torch.as_tensor(keys)
    picks = np.empty(n, dtype=np.int64)
    for start in range(0, n, chunk):
        rows = torch.arange(start, min(n, start + chunk))
        scores = queries[rows] @ candidates.T
        # the partner, and any candidate whose text equals the partner's, is not a negative
        scores[keys_t[None, :] == keys_t[rows][:, None]] = -torch.inf
        top = scores.topk(depth, dim=1).indices.numpy()
        picks[rows.numpy()] = top[np.arange(len(rows)), rng.integers(0, depth, len(rows))]
    return picks


def mine_hard_negatives(
    questions: torch.Tensor,
    answers: torch.Tensor,
    question_texts: list[str],
    answer_texts: list[str],
    depth: int = 10,
    seed: int = 42,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a hard negative answer for each question and a hard negative question for each
    answer, each drawn at random among the `depth` nearest wrong ones (unit-length embeddings)."""
    rng = np.random.default_rng(seed)
    depth = min(depth, len(answers) - 1)
    neg_answers = _nearest_wrong(questions, answers, answer_texts, depth, rng)
    neg_questions = _nearest_wrong(answers, questions, question_texts, depth, rng)
    return neg_answers, neg_questions
