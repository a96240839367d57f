"""The calibration policy: where a deployment answers, from its reviewed questions' outcomes."""

from __future__ import annotations

import numpy as np
import pytest

from faq_core.calibration import CalibrationPolicy, Outcome, precision_point, wilson_lower


def outcomes(pairs: list[tuple[float, bool]]) -> list[Outcome]:
    return [Outcome(c, r) for c, r in pairs]


def test_the_point_does_not_move_before_the_floor_of_reviewed_questions() -> None:
    policy = CalibrationPolicy(target_precision=0.9, min_reviewed=50, min_answered=5, z=0)
    few = outcomes([(0.05, True)] * 49)
    fitted = policy.fit(few)
    assert fitted.min_confidence is None
    assert fitted.reviewed == 49
    assert "fewer than 50" in fitted.reason
    assert policy.fit(few + outcomes([(0.05, True)])).min_confidence == pytest.approx(0.05)


def test_an_faq_whose_first_entries_are_right_at_low_confidence_answers_lower() -> None:
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.02, 0.9, 400)
    right = rng.uniform(size=400) < 0.97  # right regardless of confidence
    fitted = CalibrationPolicy(0.9, min_reviewed=50).fit(
        outcomes(list(zip(confidence.tolist(), right.tolist(), strict=True)))
    )
    assert fitted.min_confidence is not None
    assert fitted.min_confidence < 0.05
    assert fitted.answered > 380


def test_an_faq_where_confidence_overstates_answers_higher() -> None:
    # Right only above 0.8 of confidence; below, a coin toss.
    confidence = np.linspace(0.01, 0.99, 300)
    right = (confidence > 0.8) | (np.arange(300) % 2 == 0)
    fitted = CalibrationPolicy(0.9, min_reviewed=50, min_answered=20).fit(
        outcomes(list(zip(confidence.tolist(), right.tolist(), strict=True)))
    )
    assert fitted.min_confidence is not None
    assert 0.6 < fitted.min_confidence < 0.85
    assert fitted.precision is not None and fitted.precision >= 0.9


def test_a_few_lucky_reviews_cannot_lower_the_point_far() -> None:
    # Many reviewed questions, all wrong but a lucky handful at the bottom.
    pairs = [(0.01 * i, False) for i in range(1, 60)] + [(0.005, True)] * 3
    fitted = CalibrationPolicy(0.9, min_reviewed=50, min_answered=20).fit(outcomes(pairs))
    assert "no confidence keeps" in fitted.reason
    assert fitted.answered >= 20


def test_wilson_lower_bound_is_below_the_share_and_tightens_with_more_questions() -> None:
    right = np.array([9.0, 90.0, 900.0])
    total = np.array([10.0, 100.0, 1000.0])
    bound = wilson_lower(right, total, 1.0)
    assert np.all(bound < 0.9)
    assert bound[0] < bound[1] < bound[2]
    assert np.allclose(wilson_lower(right, total, 0.0), 0.9)


def test_precision_point_cuts_only_between_distinct_confidences() -> None:
    confidence = np.array([0.9, 0.8, 0.5, 0.5, 0.2])
    right = np.array([True, True, True, False, False])
    point = precision_point(confidence, right, 0.7)
    assert point is not None
    # 0.5 answers both tied questions (3 of 4 right, 0.75): the cut may not split them.
    assert (point.min_confidence, point.answered) == (0.5, 4)
    assert precision_point(confidence, right, 0.99) == (0.8, 1.0, 2)
    assert precision_point(np.array([0.3]), np.array([False]), 0.5) is None


def test_the_point_holds_where_answering_below_it_would_be_mostly_wrong() -> None:
    # What reviewers see is mostly what went wrong: right ones are rare at every confidence, so
    # no point keeps 90%, and the closest lies far below the servable's own point.
    pairs = [(0.1 + 0.005 * i, i % 2 == 0) for i in range(100)]
    policy = CalibrationPolicy(0.9, min_reviewed=50, min_answered=20)
    assert policy.fit(outcomes(pairs)).min_confidence is not None  # without the servable's point
    fitted = policy.fit(outcomes(pairs), current=0.5)
    assert fitted.min_confidence is None
    assert "its point holds" in fitted.reason
    assert fitted.answered == sum(c >= 0.5 for c, _ in pairs)


def test_without_a_point_that_keeps_the_target_it_can_still_rise_above_the_servables() -> None:
    # Wrong at and below 0.8, right above it but too few to keep 90% by the Wilson bound.
    pairs = [(0.01 * i, False) for i in range(1, 81)] + [(0.85, True)] * 4 + [(0.82, False)]
    fitted = CalibrationPolicy(0.9, min_reviewed=50, min_answered=5).fit(
        outcomes(pairs), current=0.3
    )
    assert fitted.min_confidence is not None and fitted.min_confidence > 0.3
