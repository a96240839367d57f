"""The score above which a first answer can be trusted."""

from __future__ import annotations

import numpy as np

from faq_core.calibration import precision_point


def confident_threshold(
    scores: np.ndarray, correct: np.ndarray, precision: float = 0.9
) -> dict[str, float] | None:
    """The lowest score such that first answers scoring at least that are `precision` right.

    Returns the score, the precision reached and the share of questions that still get an answer,
    or None when no threshold reaches the precision.
    """
    point = precision_point(scores, correct, precision)
    if point is None:
        return None
    return {
        # Not rounded: a threshold rounded up would drop the answer at the cut.
        "score": point.min_confidence,
        "precision": round(point.precision, 4),
        "coverage": round(point.answered / len(scores), 4),
        "target_precision": precision,
    }
