"""Where to answer for one deployment: the operating point refitted on its own reviewed traffic.

A servable's operating point was chosen on the validation split of the FAQ it was trained on; on
another FAQ, with its customers' own words, the same confidence may be right far more often (an
FAQ of distinct questions) or far less (one of near neighbours). The people who review the
service's suggestions and unanswered questions label its traffic as they go (faq_core.reviews):
each reviewed question asked again as if it were new gives an outcome, the first entry's
confidence and whether that entry is the one the reviewer chose. From them this policy picks the
lowest confidence at which answering keeps `target_precision` of the reviewed questions right.

Pure decisions over the outcomes, apart from the logs and the store that feed them
(`service/calibration_book.py` does that).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class Outcome(NamedTuple):
    """A reviewed question asked again: the first entry's confidence, and whether that entry is
    the one the reviewer chose (False when the reviewer said none answers it)."""

    confidence: float
    right: bool


class PrecisionPoint(NamedTuple):
    """The lowest confidence at which answering keeps a precision, and what it keeps."""

    min_confidence: float
    precision: float  # of the questions at or above it
    answered: int  # how many questions are at or above it


def wilson_lower(right: np.ndarray, total: np.ndarray, z: float) -> np.ndarray:
    """The lower end of the Wilson score interval of right/total (z: its one-sided quantile; 0
    is the share itself)."""
    share = right / total
    if z == 0:
        return share
    centre = share + z * z / (2 * total)
    spread = z * np.sqrt(share * (1 - share) / total + z * z / (4 * total * total))
    bound: np.ndarray = (centre - spread) / (1 + z * z / total)
    return bound


def precision_point(
    confidence: np.ndarray,
    right: np.ndarray,
    precision: float,
    *,
    z: float = 0.0,
    min_answered: int = 1,
) -> PrecisionPoint | None:
    """The lowest confidence such that the questions at or above it, at least `min_answered` of
    them, are `precision` right (their Wilson lower bound at `z`); None when none is.

    Equal confidences are answered or not together, so a cut falls only between two values.
    """
    if len(confidence) == 0:
        return None
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    hits = np.cumsum(right[order]).astype(np.float64)
    answered = np.arange(1, len(ranked) + 1, dtype=np.float64)
    cut_allowed = np.r_[ranked[:-1] > ranked[1:], True]
    ok = (wilson_lower(hits, answered, z) >= precision) & cut_allowed & (answered >= min_answered)
    found = np.nonzero(ok)[0]
    if len(found) == 0:
        return None
    last = int(found.max())
    return PrecisionPoint(float(ranked[last]), float(hits[last] / answered[last]), last + 1)


class Calibration(NamedTuple):
    """The operating point refitted for this deployment, or why it was not."""

    min_confidence: float | None  # None: the servable's own point holds
    reviewed: int  # outcomes fitted on
    answered: int  # of them at or above the point
    precision: float | None  # of those
    reason: str


class CalibrationPolicy(NamedTuple):
    """When and where the operating point moves.

    It moves only once `min_reviewed` reviewed questions are known, and answers at a confidence
    only where at least `min_answered` of them lie at or above it, `target_precision` right by
    the Wilson lower bound at `z`: a few lucky reviews cannot lower it far. Where no confidence
    keeps the target, it goes to the one that comes closest, but never below the servable's own
    point (`current`) to where fewer than `target_precision` of the reviewed answers are right:
    reviewers see mostly what went wrong, and there answering more would be wrong more often.
    """

    target_precision: float
    min_reviewed: int = 30
    min_answered: int = 20
    z: float = 1.0

    def fit(self, outcomes: Sequence[Outcome], current: float | None = None) -> Calibration:
        """The point for these outcomes; `current` is the servable's own (None: unknown)."""
        n = len(outcomes)
        if n < self.min_reviewed:
            return Calibration(
                None, n, 0, None, f"{n} reviewed questions, fewer than {self.min_reviewed}"
            )
        confidence = np.array([o.confidence for o in outcomes], dtype=np.float64)
        right = np.array([o.right for o in outcomes], dtype=bool)
        need = min(self.min_answered, n)
        point = precision_point(
            confidence, right, self.target_precision, z=self.z, min_answered=need
        )
        if point is not None:
            return Calibration(
                point.min_confidence,
                n,
                point.answered,
                point.precision,
                f"keeps {self.target_precision:.0%} of {n} reviewed questions right",
            )
        best = self._closest(confidence, right, need)
        if (
            current is not None
            and best.min_confidence < current
            and best.precision < self.target_precision
        ):
            held = confidence >= current
            return Calibration(
                None,
                n,
                int(held.sum()),
                float(right[held].mean()) if held.any() else None,
                f"no confidence keeps {self.target_precision:.0%} of {n} reviewed questions "
                "right, and none below the servable's point does better: its point holds",
            )
        return Calibration(
            best.min_confidence,
            n,
            best.answered,
            best.precision,
            f"no confidence keeps {self.target_precision:.0%} of {n} reviewed questions right: "
            "the one that comes closest",
        )

    def _closest(self, confidence: np.ndarray, right: np.ndarray, need: int) -> PrecisionPoint:
        order = np.argsort(-confidence, kind="stable")
        ranked = confidence[order]
        hits = np.cumsum(right[order]).astype(np.float64)
        answered = np.arange(1, len(ranked) + 1, dtype=np.float64)
        bound = wilson_lower(hits, answered, self.z)
        bound[(answered < need) | ~np.r_[ranked[:-1] > ranked[1:], True]] = -math.inf
        best = int(np.argmax(bound))  # the highest bound, and of equal ones the lowest point
        best = max(i for i in range(len(bound)) if bound[i] == bound[best])
        return PrecisionPoint(float(ranked[best]), float(hits[best] / answered[best]), best + 1)
