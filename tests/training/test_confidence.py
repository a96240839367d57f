"""Fitting the confidence model: the open-set protocol, the decision counts, what faq-train
writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faq_core.confidence import DEPTH, ConfidenceModel
from faq_core.servable import MANIFEST_FILE
from training.abstention import open_set_check
from training.confidence import (
    TARGET_PRECISION,
    closed_set,
    cross_validated,
    decisions,
    expected_calibration_error,
    fit_model,
    open_set,
    operating_point,
)


def _pairs(n: int, seed: int = 0, noise: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Questions and answers, each answer its question plus `noise`: with a little, each answer
    is its question's nearest."""
    rng = np.random.default_rng(seed)
    questions = rng.normal(size=(n, 16))
    return questions, questions + noise * rng.normal(size=(n, 16))


def test_the_open_set_asks_every_question_once_with_and_once_without_its_answer() -> None:
    questions, answers = _pairs(10)
    searched = open_set(questions, answers)
    assert searched.scores.shape == (20, DEPTH)
    # First half: even answers indexed; second half: odd ones.
    np.testing.assert_array_equal(searched.answerable[:10], np.arange(10) % 2 == 0)
    np.testing.assert_array_equal(searched.answerable[10:], np.arange(10) % 2 == 1)
    # Its own answer is found exactly when indexed (these answers are their questions' nearest).
    np.testing.assert_array_equal(searched.correct[:, 0], searched.answerable)
    assert not searched.correct[~searched.answerable].any()
    assert np.all(np.diff(searched.scores, axis=1) <= 0)  # best first


def test_decisions_count_answers_and_abstentions_as_the_issue_does() -> None:
    confidence = np.array([0.9, 0.8, 0.3, 0.2, 0.95, 0.1])
    correct = np.array([True, False, False, False, True, False])
    answerable = np.array([True, True, True, False, True, False])
    got = decisions(confidence, correct, answerable, min_confidence=0.5)
    # answered: 0 (right), 1 (wrong), 4 (right); abstained: 2 (answerable), 3, 5 (not)
    assert got["decisions_right"] == pytest.approx(4 / 6)
    assert got["right_or_handed_over"] == pytest.approx(5 / 6)  # abstaining on 2 averts a miss
    assert got["precision_when_answering"] == pytest.approx(2 / 3)
    assert got["answerable_answered"] == pytest.approx(3 / 4)
    assert got["always_abstaining"] == pytest.approx(2 / 6)


def test_expected_calibration_error_is_zero_when_confidence_matches_frequency() -> None:
    confidence = np.array([0.25] * 4 + [0.75] * 4)
    assert expected_calibration_error(confidence, np.array([1, 0, 0, 0, 1, 1, 1, 0], bool)) == 0
    assert expected_calibration_error(confidence, np.ones(8, bool)) == pytest.approx(0.5)


def test_cross_validation_scores_each_question_by_a_model_that_never_saw_it() -> None:
    questions, answers = _pairs(60, seed=1)
    searched = open_set(questions, answers)
    cv = cross_validated(searched)
    assert cv.shape == searched.scores.shape
    assert np.all((cv >= 0) & (cv <= 1))
    # The easy synthetic pairs separate: answerable first entries are far more confident.
    assert cv[searched.answerable, 0].mean() > cv[~searched.answerable, 0].mean() + 0.3


def test_a_small_faq_is_searched_and_cross_validated_as_the_service_pads_it() -> None:
    """An imported FAQ page of a dozen questions leaves 3 for validation: fewer answers than
    DEPTH are indexed in each half, and fewer questions than folds. Missing scores are 0, as
    the service pads them, an answer not indexed is never found, and each question is scored
    by a model fitted on the others."""
    questions, answers = _pairs(3, seed=2)
    searched = open_set(questions, answers)
    assert np.all(np.isfinite(searched.scores))
    assert not searched.correct[~searched.answerable].any()
    cv = cross_validated(searched)
    assert cv.shape == searched.scores.shape == (6, DEPTH)
    assert np.all((cv > 0) & (cv <= 1))  # every row scored, none left at zero or NaN


def test_faq_train_writes_the_model_its_figures_and_its_reliability_diagram(
    trained_servable_dir: Path,
) -> None:
    manifest = json.loads((trained_servable_dir / MANIFEST_FILE).read_text())
    model = ConfidenceModel.from_record(manifest["confidence"])
    figures = manifest["metrics"]["confidence"]
    assert figures["min_confidence"] == pytest.approx(model.min_confidence, abs=1e-4)
    assert set(figures["open_set"]) >= {
        "decisions_right",
        "precision_when_answering",
        "answerable_answered",
        "ece",
    }
    assert "coverage_at_90_precision" in figures["closed_set"]
    # The operating point keeps the promised share of answered questions right (it was chosen
    # on these cross-validated confidences), unless nothing could be answered at all.
    if figures["open_set"]["answered"] > 0:
        assert figures["open_set"]["precision_when_answering"] >= TARGET_PRECISION
    png = trained_servable_dir / "reliability_diagram.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((trained_servable_dir / "metrics.json").read_text())
    assert metrics["confidence"]["open_set"] == figures["open_set"]


def test_the_closed_set_indexes_every_answer() -> None:
    questions, answers = _pairs(12, seed=2)
    searched = closed_set(questions, answers)
    assert searched.answerable.all() and searched.correct[:, 0].all()


def test_the_abstention_check_finds_the_point_that_keeps_an_unfamiliar_faq_precise() -> None:
    """A model fitted on one FAQ, checked on a harder one (answers further from their
    questions): its own point keeps fewer than 90% of the answers right there; the point the
    check reports for that FAQ keeps 90%, by answering less."""
    searched = open_set(*_pairs(400, seed=0, noise=0.9))
    first = cross_validated(searched)[:, 0]
    model = fit_model(searched, operating_point(first, searched.correct[:, 0], TARGET_PRECISION))

    report = open_set_check(model, *_pairs(400, seed=1, noise=1.2))
    own = report["own_operating_point"]
    assert report["open_set"]["precision_when_answering"] < TARGET_PRECISION
    assert own["precision_when_answering"] >= TARGET_PRECISION
    assert own["min_confidence"] > model.min_confidence
    assert own["answered"] < report["open_set"]["answered"]
