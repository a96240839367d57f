"""The confidence model as the service applies it: probabilities, ranking, the decision."""

from __future__ import annotations

import numpy as np
import pytest

from faq_core.confidence import (
    DEPTH,
    ENTRY_FEATURES,
    NONE_FEATURES,
    ConfidenceModel,
    Decision,
    ScoreScale,
    choice_probabilities,
    decide,
    none_features,
    padded,
)

# Utility 20 * score for an entry; "none of them" at a fixed utility of 14 (a score of 0.7).
ENTRY = np.array([20.0, 0.0])
NONE = np.array([14.0, 0.0, 0.0, 0.0])


def _model(scale: ScoreScale | None = None, min_confidence: float = 0.7) -> ConfidenceModel:
    return ConfidenceModel(ENTRY, NONE, min_confidence, scale or ScoreScale())


def _softmax(utilities: list[float]) -> np.ndarray:
    e = np.exp(np.array(utilities) - max(utilities))
    return np.asarray(e / e.sum())


def test_confidences_are_the_choice_among_the_entries_found_and_none_of_them() -> None:
    scores = [0.9, 0.8]
    # "None of them", two entries, the rest fillers scoring 0 (an unrelated text).
    fillers = [0.0] * (DEPTH - len(scores))
    expected = _softmax([14.0, 18.0, 16.0, *fillers])
    np.testing.assert_allclose(_model().confidences(scores), expected[1:3])
    np.testing.assert_allclose(
        choice_probabilities(ENTRY, NONE, padded(scores)), expected, rtol=1e-12
    )


def test_two_entries_that_tie_share_what_one_alone_would_have() -> None:
    alone = _model().confidences([0.95, 0.3])[0]
    tied = _model().confidences([0.95, 0.95, 0.3])
    assert tied[0] == pytest.approx(tied[1])
    assert tied[0] + tied[1] == pytest.approx(alone, abs=0.01)
    assert alone > 0.9 > 0.5 > tied[0]


def test_an_entry_beyond_the_depth_is_scored_against_the_same_choice() -> None:
    scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.45, 0.4]
    deep = _model().confidences(scores)
    np.testing.assert_allclose(deep[:DEPTH], _model().confidences(scores[:DEPTH]))
    assert deep[DEPTH] < deep[DEPTH - 1] and deep[DEPTH + 1] < deep[DEPTH]


def test_no_entries_no_confidences() -> None:
    assert len(_model().confidences([])) == 0


def test_none_features_read_how_the_scores_lie() -> None:
    got = none_features(np.array([0.9, 0.6, 0.5, 0.4, 0.3]))
    np.testing.assert_allclose(got, [1.0, 0.54, 0.3, 0.6])
    assert len(got) == len(NONE_FEATURES)


def test_question_matches_are_put_on_the_answer_scale_before_ranking() -> None:
    # A question match of 0.9 counts as an answer match of 0.75.
    model = _model(ScoreScale((0.5, 0.9), (0.45, 0.75)))
    order, confidences = model.rank([(0.8, None), (0.6, 0.9), (None, 0.5)])
    assert order == [0, 1, 2]  # 0.8 > 0.75 (the question match) > 0.45
    np.testing.assert_allclose(confidences, model.confidences([0.8, 0.75, 0.45]))
    # Between knots it interpolates, beyond the last it runs on to (1, 1).
    assert model.question_scale(0.7) == pytest.approx(0.6)
    assert model.question_scale(0.95) == pytest.approx(0.875)
    assert model.question_scale(1.0) == pytest.approx(1.0)


def test_the_manifest_record_round_trips_and_refuses_other_features() -> None:
    model = _model(ScoreScale((0.5, 0.9), (0.45, 0.75)), min_confidence=0.61)
    record = model.record()
    again = ConfidenceModel.from_record(record)
    matches = [(0.8, 0.7), (None, 0.95), (0.3, None)]
    assert again.rank(matches)[0] == model.rank(matches)[0]
    np.testing.assert_allclose(again.rank(matches)[1], model.rank(matches)[1])
    assert again.min_confidence == 0.61
    assert record["entry_features"] == list(ENTRY_FEATURES)
    with pytest.raises(ValueError, match="re-train"):
        ConfidenceModel.from_record({**record, "entry_features": ["score"]})


@pytest.mark.parametrize(
    ("confidences", "decision"),
    [
        ([0.8, 0.1], Decision(True, None)),
        ([0.45, 0.4, 0.05], Decision(False, "ambiguous")),  # together likely, about equally
        ([0.6, 0.2], Decision(False, "no_match")),  # the second is too unlikely to offer
        ([0.2, 0.15], Decision(False, "no_match")),  # neither is likely, even together
        ([0.3], Decision(False, "no_match")),
        ([], Decision(False, "no_match")),  # an empty FAQ
    ],
)
def test_decide(confidences: list[float], decision: Decision) -> None:
    assert decide(confidences, 0.7) == decision
