"""How likely each found entry is to answer the question, and whether to answer at all.

`faq-train` fits the model (`training.confidence`) and stores it in the servable's manifest as
plain numbers; the service applies it here with numpy. It reads only what a search returns, the
scores of the top `DEPTH` entries, so it costs nothing beyond the search itself.

The model is a choice among the entries found *or none of them* (a conditional logit): each entry
has a utility from its own score, "none of them" has one from how the scores of the top `DEPTH`
lie (their mean, the last of them, how far they fall from the first), and the probabilities are
the softmax of the utilities. So the confidences of one question sum to at most 1: two entries
that tie (the same FAQ question with two answers) share what one alone would have, an entry far
behind the first gets little, and a question close to everything in the FAQ and to nothing in
particular goes to "none of them".

Scores come from two kinds of match: a user's question against an answer, and against an
entry's own FAQ question. Question-to-question cosines run higher for unrelated pairs, so a
question match is first put on the answer-match scale (`ScoreScale`, fitted so that the best
wrong match of either kind is as high as often) before the model reads it.

Which entries are answers is policy, kept apart in `decide`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

# Entries a search must return for the model: the service searches at least this deep. The
# default top_k, so that the default search costs nothing more; reading deeper decided no
# better (docs/quality.md).
DEPTH = 3
ENTRY_FEATURES = ("score", "score_squared")
NONE_FEATURES = ("bias", "mean", "last", "fall_off")
# Two entries are "about equally likely" when the second is at least this share of the first.
AMBIGUITY_RATIO = 0.5

Reason = Literal["no_match", "ambiguous"]


def entry_features(scores: np.ndarray) -> np.ndarray:
    """(..., DEPTH) scores -> (..., DEPTH, len(ENTRY_FEATURES))."""
    return np.stack([scores, scores**2], axis=-1)


def none_features(scores: np.ndarray) -> np.ndarray:
    """(..., DEPTH) scores -> (..., len(NONE_FEATURES))."""
    return np.stack(
        [
            np.ones(scores.shape[:-1]),
            scores.mean(axis=-1),
            scores[..., -1],
            scores[..., 0] - scores[..., -1],
        ],
        axis=-1,
    )


def padded(scores: Sequence[float] | np.ndarray) -> np.ndarray:
    """The top DEPTH scores, best first; fewer (a small FAQ, a narrow filter) are filled up with
    0, the cosine of an unrelated text."""
    found = np.asarray(scores, dtype=np.float64)[:DEPTH]
    full = np.zeros(DEPTH)
    full[: len(found)] = found
    return full


def choice_probabilities(
    entry_weights: np.ndarray, none_weights: np.ndarray, scores: np.ndarray
) -> np.ndarray:
    """(..., DEPTH) padded scores -> (..., 1 + DEPTH) probabilities: none of them, then each."""
    utilities = np.concatenate(
        [
            (none_features(scores) @ none_weights)[..., None],
            entry_features(scores) @ entry_weights,
        ],
        axis=-1,
    )
    utilities -= utilities.max(axis=-1, keepdims=True)
    exp = np.exp(utilities)
    probabilities: np.ndarray = exp / exp.sum(axis=-1, keepdims=True)
    return probabilities


@dataclass(frozen=True)
class ScoreScale:
    """A monotone map of question-match cosines onto the answer-match scale, piecewise linear
    through (`source[i]`, `target[i]`) and on to (1, 1); below the first knot, a shift."""

    source: tuple[float, ...] = ()
    target: tuple[float, ...] = ()

    def __call__(self, score: float) -> float:
        if not self.source:
            return score
        xs = (-1.0, *self.source, 1.0)
        ys = (-1.0 + self.target[0] - self.source[0], *self.target, 1.0)
        i = min(max(bisect.bisect_right(xs, score), 1), len(xs) - 1)
        share = (score - xs[i - 1]) / (xs[i] - xs[i - 1])
        return ys[i - 1] + min(max(share, 0.0), 1.0) * (ys[i] - ys[i - 1])

    def record(self) -> dict[str, list[float]]:
        return {
            "source": [round(v, 6) for v in self.source],
            "target": [round(v, 6) for v in self.target],
        }


@dataclass(frozen=True)
class ConfidenceModel:
    """The fitted weights, and the operating point: the lowest confidence at which answering
    kept `target_precision` of the answered validation questions right."""

    entry_weights: np.ndarray
    none_weights: np.ndarray
    min_confidence: float
    question_scale: ScoreScale = field(default_factory=ScoreScale)
    target_precision: float = 0.9

    def confidences(self, scores: Sequence[float] | np.ndarray) -> np.ndarray:
        """The probability that each entry (scores best first, on the answer-match scale)
        answers the question. The choice is among the top DEPTH and none of them; an entry
        further down gets what its own utility would have against those.

        Plain Python arithmetic, as `choice_probabilities` computes it for many questions at
        once: on five numbers, numpy's per-call overhead was most of the cost (40 µs a question).
        """
        values = [float(s) for s in scores]
        if not values:
            return np.zeros(0)
        top = (values[:DEPTH] + [0.0] * DEPTH)[:DEPTH]
        w_score, w_squared = (float(w) for w in self.entry_weights)
        w_bias, w_mean, w_last, w_fall = (float(w) for w in self.none_weights)

        def utility(score: float) -> float:
            return w_score * score + w_squared * score * score

        none = w_bias + w_mean * sum(top) / DEPTH + w_last * top[-1] + w_fall * (top[0] - top[-1])
        peak = max(none, *(utility(s) for s in top))
        total = math.exp(none - peak) + sum(math.exp(utility(s) - peak) for s in top)
        return np.array([math.exp(utility(s) - peak) / total for s in values])

    def rank(
        self, matches: Sequence[tuple[float | None, float | None]]
    ) -> tuple[list[int], np.ndarray]:
        """For entries found by their answer and/or their FAQ question (each entry's two match
        scores, None where that vector did not find it): the entries' order, most likely
        first, and their confidences in that order. An entry counts with its better match on
        the answer-match scale."""
        scale = self.question_scale
        scores = [
            max(
                -1.0 if answer is None else answer,
                -1.0 if question is None else scale(question),
            )
            for answer, question in matches
        ]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return order, self.confidences([scores[i] for i in order])

    def record(self) -> dict[str, Any]:
        """As the manifest keeps it: plain numbers, named."""
        return {
            "kind": "conditional_logit",
            "depth": DEPTH,
            "entry_features": list(ENTRY_FEATURES),
            "entry_weights": [round(float(w), 8) for w in self.entry_weights],
            "none_features": list(NONE_FEATURES),
            "none_weights": [round(float(w), 8) for w in self.none_weights],
            "question_scale": self.question_scale.record(),
            "min_confidence": round(float(self.min_confidence), 4),
            "target_precision": self.target_precision,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ConfidenceModel:
        expected = (list(ENTRY_FEATURES), list(NONE_FEATURES), DEPTH)
        found = (record.get("entry_features"), record.get("none_features"), record.get("depth"))
        if found != expected:
            raise ValueError(
                f"the confidence model uses features {found[:2]} at depth {found[2]}; this code "
                f"computes {expected[:2]} at depth {DEPTH}: re-train the servable"
            )
        scale = record.get("question_scale") or {}
        return cls(
            entry_weights=np.asarray(record["entry_weights"], dtype=np.float64),
            none_weights=np.asarray(record["none_weights"], dtype=np.float64),
            min_confidence=float(record["min_confidence"]),
            question_scale=ScoreScale(
                tuple(scale.get("source", ())), tuple(scale.get("target", ()))
            ),
            target_precision=float(record.get("target_precision", 0.9)),
        )


@dataclass(frozen=True)
class Decision:
    answered: bool
    reason: Reason | None  # None when answered


def decide(confidences: Sequence[float] | np.ndarray, min_confidence: float) -> Decision:
    """Answer when the first entry is likely enough. Otherwise the question is `ambiguous` when
    the first two entries are about equally likely and one of them likely enough together (the
    chatbot should let the user choose), else `no_match`."""
    c = list(confidences)
    if c and c[0] >= min_confidence:
        return Decision(True, None)
    if len(c) >= 2 and c[1] >= AMBIGUITY_RATIO * c[0] and c[0] + c[1] >= min_confidence:
        return Decision(False, "ambiguous")
    return Decision(False, "no_match")
