"""Fitting and measuring the confidence model (`faq_core.confidence`) on validation pairs.

The encoder never trained on these pairs. The protocol is open-set, as a deployment meets
questions: the answers of every other entry are indexed (once the even entries, once the odd
ones) and every question is asked, so half of the questions have no answer in the index. Each
asked question's top `DEPTH` entries, found by exact cosine as the store's search finds them,
are examples: the one that is the question's own entry is labelled 1, every other 0. The figures
are cross-validated by question (the model that scores a question never saw it), and the
operating point is the lowest confidence at which the answered questions stay
`target_precision` right.

Decisions are counted as the no-answer issue counts them: answering is right when the first
entry is the question's own; abstaining is right when the index has no answer for it
(`decisions_right`). `right_or_handed_over` also counts abstaining as right when the first
entry would have been wrong: a person then takes the question, rather than the user reading a
wrong answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import minimize

from faq_core.confidence import (
    DEPTH,
    ENTRY_FEATURES,
    NONE_FEATURES,
    ConfidenceModel,
    ScoreScale,
    choice_probabilities,
)
from training.threshold import confident_threshold

FOLDS = 5
TARGET_PRECISION = 0.9
RELIABILITY_BINS = 10
L2 = 1e-4
# Where the question-match scale is tied to the answer-match scale: quantiles of the best wrong
# match of each kind (the upper ones decide which wrong matches look confident).
SCALE_QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.99, 0.999)


@dataclass(frozen=True)
class Searched:
    """Each asked question's top entries (indices into the answers), their scores, and which
    of them is the question's own."""

    scores: np.ndarray  # (questions, DEPTH), best first
    correct: np.ndarray  # (questions, DEPTH) bool
    answerable: np.ndarray  # (questions,) bool: its own entry is indexed


def _normalized(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def search_exact(questions: np.ndarray, answers: np.ndarray, indexed: np.ndarray) -> Searched:
    """Question i asks; answer j is indexed when `indexed[j]`; answer i is question i's own."""
    scores = _normalized(questions) @ _normalized(answers).T
    scores[:, ~indexed] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :DEPTH]
    found = np.take_along_axis(scores, top, axis=1).astype(np.float64)
    # Fewer indexed answers than DEPTH (a small FAQ): the rest is padded as the service pads it
    # (faq_core.confidence.padded), and an answer that is not indexed is never found.
    real = np.isfinite(found)
    return Searched(
        scores=np.where(real, found, 0.0),
        correct=(top == np.arange(len(questions))[:, None]) & real,
        answerable=indexed.copy(),
    )


def open_set(questions: np.ndarray, answers: np.ndarray) -> Searched:
    """Both halves of the open-set protocol, one after the other (each question asked twice:
    once with its answer indexed, once without)."""
    n = len(questions)
    halves = [search_exact(questions, answers, np.arange(n) % 2 == part) for part in (0, 1)]
    return Searched(
        scores=np.concatenate([h.scores for h in halves]),
        correct=np.concatenate([h.correct for h in halves]),
        answerable=np.concatenate([h.answerable for h in halves]),
    )


def closed_set(questions: np.ndarray, answers: np.ndarray) -> Searched:
    """The ask protocol: every answer indexed."""
    return search_exact(questions, answers, np.ones(len(questions), dtype=bool))


def fit_model(searched: Searched, min_confidence: float = 1.0) -> ConfidenceModel:
    """Maximum likelihood of the conditional logit: for each question, its own entry among the
    top DEPTH found, or none of them when its own entry is not among them (a little L2 keeps
    the weights finite where the data separate)."""
    found_own = np.any(searched.correct, axis=1, keepdims=True)
    chosen = np.concatenate([~found_own, searched.correct], axis=1)
    n_entry = len(ENTRY_FEATURES)

    def loss(theta: np.ndarray) -> float:
        p = choice_probabilities(theta[:n_entry], theta[n_entry:], searched.scores)
        return float(-np.log(p[chosen] + 1e-12).mean() + L2 * np.sum(theta**2))

    start = np.zeros(n_entry + len(NONE_FEATURES))
    theta = minimize(loss, start, method="L-BFGS-B").x
    return ConfidenceModel(
        entry_weights=theta[:n_entry],
        none_weights=theta[n_entry:],
        min_confidence=min_confidence,
        target_precision=TARGET_PRECISION,
    )


def confidences(model: ConfidenceModel, searched: Searched) -> np.ndarray:
    """The model's confidences for each question's top entries, as the service computes them."""
    return np.stack([model.confidences(row) for row in searched.scores])


def _rows(searched: Searched, rows: np.ndarray) -> Searched:
    return Searched(searched.scores[rows], searched.correct[rows], searched.answerable[rows])


def cross_validated(searched: Searched, folds: int = FOLDS) -> np.ndarray:
    """Each question's confidences from a model fitted without it (folds by question: a
    question's two askings of the open set fall in the same fold)."""
    n = len(searched.scores)
    question = np.arange(n) % (n // 2) if n % 2 == 0 else np.arange(n)
    fold = question % folds
    result = np.zeros(searched.scores.shape)
    for f in range(folds):
        held = fold == f
        if not held.any():
            continue  # a small FAQ (an imported page of a dozen questions) has fewer questions
        result[held] = confidences(fit_model(_rows(searched, ~held)), _rows(searched, held))
    return result


def operating_point(confidence: np.ndarray, correct: np.ndarray, precision: float) -> float:
    """The lowest confidence at which answering every question at or above it keeps `precision`
    of them right (1.0 when no such point exists)."""
    point = confident_threshold(confidence, correct, precision)
    return point["score"] if point is not None else 1.0


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS
) -> float:
    which = np.clip((confidence * bins).astype(int), 0, bins - 1)
    gaps = [
        np.mean(which == b) * abs(confidence[which == b].mean() - correct[which == b].mean())
        for b in range(bins)
        if np.any(which == b)
    ]
    return float(sum(gaps))


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = RELIABILITY_BINS
) -> list[dict[str, float]]:
    """Per confidence bin: its mean confidence, how often it was right, how many questions."""
    which = np.clip((confidence * bins).astype(int), 0, bins - 1)
    return [
        {
            "confidence": float(confidence[which == b].mean()),
            "right": float(correct[which == b].mean()),
            "count": int(np.sum(which == b)),
        }
        for b in range(bins)
        if np.any(which == b)
    ]


def decisions(
    confidence: np.ndarray, correct: np.ndarray, answerable: np.ndarray, min_confidence: float
) -> dict[str, float]:
    """What answering at `min_confidence` and abstaining below it gets right (module doc)."""
    answered = confidence >= min_confidence
    right_answers = answered & correct
    return {
        "decisions_right": float(np.mean(right_answers | (~answered & ~answerable))),
        "right_or_handed_over": float(np.mean(right_answers | (~answered & ~correct))),
        "precision_when_answering": float(correct[answered].mean()) if answered.any() else 1.0,
        "answered": float(answered.mean()),
        "answerable_answered": float(answered[answerable].mean()) if answerable.any() else 0.0,
        "always_abstaining": float(np.mean(~answerable)),
    }


def coverage_at_precision(confidence: np.ndarray, correct: np.ndarray, precision: float) -> float:
    """The largest share of questions that can be answered with `precision` of them right."""
    threshold = operating_point(confidence, correct, precision)
    return float(np.mean(confidence >= threshold)) if threshold < 1.0 else 0.0


def rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in values.items()}


def open_set_figures(
    confidence: np.ndarray, correct: np.ndarray, answerable: np.ndarray, min_confidence: float
) -> dict[str, float]:
    """The open set's decisions at `min_confidence`, and how well `confidence` is calibrated."""
    return rounded(
        {
            **decisions(confidence, correct, answerable, min_confidence),
            "ece": expected_calibration_error(confidence, correct),
        }
    )


def closed_set_figures(model: ConfidenceModel, closed: Searched) -> dict[str, float]:
    """How much of the ask protocol `model` could answer at 90% precision, and its calibration
    there."""
    first, right = confidences(model, closed)[:, 0], closed.correct[:, 0]
    return rounded(
        {
            "coverage_at_90_precision": coverage_at_precision(first, right, TARGET_PRECISION),
            "ece": expected_calibration_error(first, right),
            "precision_at_1": float(right.mean()),
        }
    )


def question_scale(questions: np.ndarray, answers: np.ndarray) -> ScoreScale:
    """The map of question-match cosines onto the answer-match scale: each question's best
    wrong match among the other questions is put where its best wrong match among the answers
    lies, quantile for quantile, so that an unrelated FAQ question looks no more like an answer
    than an unrelated answer does."""
    q, a = _normalized(questions), _normalized(answers)
    own = np.arange(len(q))
    to_answers, to_questions = q @ a.T, q @ q.T
    to_answers[own, own] = -np.inf
    to_questions[own, own] = -np.inf
    source = np.quantile(to_questions.max(axis=1), SCALE_QUANTILES)
    target = np.quantile(to_answers.max(axis=1), SCALE_QUANTILES)
    # Strictly increasing knots below 1, for interpolation.
    source = np.minimum(np.maximum.accumulate(source + 1e-6 * np.arange(len(source))), 0.999)
    return ScoreScale(tuple(float(x) for x in source), tuple(float(y) for y in target))


@dataclass(frozen=True)
class Fitted:
    model: ConfidenceModel
    metrics: dict[str, Any]
    # The cross-validated first-entry confidences on the open set and whether each was right,
    # for the reliability diagram.
    confidence: np.ndarray
    correct: np.ndarray


def fit_confidence(
    questions: np.ndarray, answers: np.ndarray, *, raw_threshold: float | None = None
) -> Fitted:
    """Fit on every open-set example; measure by cross-validation (open set, and the closed
    ask protocol), against the raw score `raw_threshold` where given."""
    open_searched = open_set(questions, answers)
    cv = cross_validated(open_searched)
    first, right = cv[:, 0], open_searched.correct[:, 0]
    min_confidence = operating_point(first, right, TARGET_PRECISION)
    model = replace(
        fit_model(open_searched, min_confidence),
        question_scale=question_scale(questions, answers),
    )

    closed = closed_set(questions, answers)
    metrics: dict[str, Any] = {
        "protocol": "open set: every other val answer indexed, every val question asked",
        "questions": len(first),
        "min_confidence": round(min_confidence, 4),
        "open_set": open_set_figures(first, right, open_searched.answerable, min_confidence),
        "closed_set": closed_set_figures(model, closed),
        "reliability": reliability(first, right),
    }
    if raw_threshold is not None:
        raw_open = open_searched.scores[:, 0]
        metrics["raw_score"] = {
            "threshold": raw_threshold,
            "open_set": rounded(
                decisions(raw_open, right, open_searched.answerable, raw_threshold)
            ),
            "closed_set": rounded(
                {
                    "coverage_at_90_precision": coverage_at_precision(
                        closed.scores[:, 0], closed.correct[:, 0], TARGET_PRECISION
                    )
                }
            ),
        }
    return Fitted(model, metrics, first, right)
