"""The confidence threshold on first-answer scores."""

from __future__ import annotations

import numpy as np
import pytest

from training.threshold import confident_threshold


def precision_at_or_above(scores: np.ndarray, correct: np.ndarray, threshold: float) -> float:
    kept = scores >= threshold
    return float(correct[kept].mean())


def test_lowest_score_that_keeps_the_target_precision() -> None:
    # Best first: right, right, wrong, right, wrong -> precision 1, 1, 2/3, 3/4, 3/5.
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    correct = np.array([True, True, False, True, False])
    result = confident_threshold(scores, correct, precision=0.75)
    assert result == {"score": 0.6, "precision": 0.75, "coverage": 0.8, "target_precision": 0.75}
    strict = confident_threshold(scores, correct, precision=0.9)
    assert strict is not None
    assert (strict["score"], strict["coverage"]) == (0.8, 0.4)


def test_input_order_does_not_matter() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.2, 0.95, size=200)
    correct = rng.uniform(size=200) < scores  # higher scores are right more often
    order = rng.permutation(200)
    assert confident_threshold(scores, correct, 0.85) == confident_threshold(
        scores[order], correct[order], 0.85
    )


@pytest.mark.parametrize("target", [0.6, 0.8, 0.9, 0.95])
def test_answers_at_or_above_the_threshold_reach_the_precision(target: float) -> None:
    rng = np.random.default_rng(1)
    scores = rng.uniform(0.2, 0.95, size=500)
    correct = rng.uniform(size=500) < scores
    result = confident_threshold(scores, correct, target)
    assert result is not None
    # The reported score is rounded to 4 places; the cut is the stored score it was rounded from.
    cut = scores[np.abs(scores - result["score"]) <= 5e-5].min()
    assert precision_at_or_above(scores, correct, cut) >= target
    assert result["precision"] == pytest.approx(
        precision_at_or_above(scores, correct, cut), abs=1e-4
    )
    assert result["coverage"] == pytest.approx(np.mean(scores >= cut), abs=1e-4)
    # Any lower cut would not reach the target any more.
    below = scores[scores < cut]
    if len(below):
        assert precision_at_or_above(scores, correct, below.max()) < target


def test_none_when_no_threshold_reaches_the_precision() -> None:
    scores = np.array([0.9, 0.8, 0.7])
    assert confident_threshold(scores, np.array([False, False, False]), 0.5) is None
    assert confident_threshold(scores, np.array([False, True, True]), 0.9) is None


def test_everything_right_keeps_every_answer() -> None:
    scores = np.array([0.3, 0.9, 0.5])
    result = confident_threshold(scores, np.array([True, True, True]), 0.9)
    assert result is not None
    assert (result["score"], result["coverage"], result["precision"]) == (0.3, 1.0, 1.0)


def test_tied_scores_are_kept_or_dropped_together() -> None:
    # Two answers score 0.8: one right, one wrong. Keeping "scores >= 0.8" keeps both: 2/3 right.
    scores = np.array([0.9, 0.8, 0.8])
    correct = np.array([True, True, False])
    result = confident_threshold(scores, correct, precision=0.9)
    assert result is not None
    assert precision_at_or_above(scores, correct, result["score"]) >= 0.9


def test_the_returned_score_keeps_the_answer_at_the_cut() -> None:
    # right, wrong, right: precision 1, 1/2, 2/3. For 0.6 the cut is the third answer (0.61237),
    # and without it only 1/2 of the kept answers are right.
    scores = np.array([0.9, 0.8, 0.61237])
    correct = np.array([True, False, True])
    result = confident_threshold(scores, correct, precision=0.6)
    assert result is not None
    assert result["coverage"] == 1.0
    assert precision_at_or_above(scores, correct, result["score"]) >= 0.6
