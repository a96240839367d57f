"""The score above which a first answer can be trusted."""

from __future__ import annotations

import numpy as np


def confident_threshold(
    scores: np.ndarray, correct: np.ndarray, precision: float = 0.9
) -> dict[str, float] | None:
    """The lowest score such that first answers scoring at least that are `precision` right.

    Returns the score, the precision reached and the share of questions that still get an answer,
    or None when no threshold reaches the precision.
    """
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    hits = np.cumsum(correct[order])
    answered = np.arange(1, len(scores) + 1)
    # `score >= threshold` keeps or drops equal scores together: cut only where the next is lower.
    cut_allowed = np.r_[ranked[:-1] > ranked[1:], True]
    ok = np.nonzero((hits / answered >= precision) & cut_allowed)[0]
    if len(ok) == 0:
        return None
    last = int(ok.max())
    return {
        # Not rounded: a threshold rounded up would drop the answer at the cut.
        "score": float(ranked[last]),
        "precision": round(float(hits[last] / answered[last]), 4),
        "coverage": round(float(answered[last] / len(scores)), 4),
        "target_precision": precision,
    }
