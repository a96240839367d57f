"""The verifier experiment's pieces that need no model: mining negatives, the conditional logit
on any features (which must agree with the confidence model's own fitting)."""

from __future__ import annotations

import numpy as np

from faq_core.confidence import DEPTH
from training.confidence import fit_model, open_set
from training.verifier import mine_negatives
from training.verifier_eval import (
    VERIFIED,
    Design,
    combined_features,
    current_features,
    fit,
    probabilities,
    verifier_features,
)


def test_negatives_are_nearest_wrong_answers_of_the_same_source_first() -> None:
    # Question 0's nearest answers: 1 (same text as its own), 2 (other source), 3, 4 (same source).
    questions = np.array([[1.0, 0.0]] + [[0.0, 1.0]] * 4)
    answers = np.array([[1.0, 0.0], [0.99, 0.14], [0.95, 0.31], [0.9, 0.44], [0.8, 0.6]])
    texts = ["yes", "yes", "b", "c", "d"]
    sources = ["aws", "aws", "gcp", "aws", "aws"]
    picks = mine_negatives(questions, answers, texts, sources, count=3, depth=4)
    assert picks[0].tolist() == [3, 4, 2]


def test_the_conditional_logit_on_the_current_features_is_the_confidence_models() -> None:
    rng = np.random.default_rng(0)
    questions = rng.normal(size=(60, 8))
    searched = open_set(questions, questions + 0.8 * rng.normal(size=(60, 8)))
    theta = fit(
        current_features(searched.scores, np.zeros(searched.scores.shape)), searched.correct
    )
    model = fit_model(searched)
    np.testing.assert_allclose(theta, np.r_[model.entry_weights, model.none_weights], atol=1e-3)


def test_entries_the_verifier_did_not_read_are_out_of_its_choice() -> None:
    scores = np.array([[0.9, 0.8, 0.7]])
    logits = np.full((1, DEPTH), np.nan)
    logits[0, :VERIFIED] = [2.0, -1.0]
    p = probabilities(verifier_features(scores, logits), np.array([1.0, 0.0]))
    assert p[0, 1 + VERIFIED :].sum() == 0
    assert np.isclose(p.sum(), 1)
    combined = combined_features(scores, logits)
    assert isinstance(combined, Design)
    assert combined.entry[0, VERIFIED:, 2:].sum() == 0  # no logit, no "verified" mark
