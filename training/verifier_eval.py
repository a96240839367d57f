"""Does the verifier (`training.verifier`) earn its place? Measured in the confidence model's own
protocol (`training.confidence`): the validation pairs, open set (every other answer indexed,
every question asked, halves swapped) and closed set (every answer indexed), figures
cross-validated by question, operating point where the answered open-set questions stay 90%
right.

The verifier reads each asking's first `VERIFIED` entries. Compared, each a choice among the
entries found or none of them (the conditional logit of `faq_core.confidence`):

- current: the servable's model, the top DEPTH scores;
- verifier: only the verifier's logits of the first VERIFIED entries;
- combined: the scores and, for the verified entries, the verifier's logit;
- gated: combined only where the current model's confidence lies in a middle band, current
  elsewhere (the verifier runs only there);
- logistic: a logistic regression on [the current confidence's logit, verifier logits 1 and 2].

A model that reads the verifier may put the second entry before the first: the answer given is
the most likely entry, and it is right when that entry is the question's own.

    python -m training.verifier_eval --model var/model --verifier /tmp/verifier \
        --data cloud_faq_dataset.jsonl [--report report.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from faq_core.confidence import DEPTH, decide, none_features
from faq_core.entries import FaqEntry, parse_entry
from faq_core.servable import Servable, load_servable
from faq_core.settings import Settings
from training.abstention import OUT_OF_DOMAIN, PARAPHRASE_FAQ, _found, _kinds
from training.confidence import (
    FOLDS,
    L2,
    TARGET_PRECISION,
    Searched,
    coverage_at_precision,
    cross_validated,
    decisions,
    expected_calibration_error,
    open_set,
    operating_point,
    rounded,
)
from training.data import load_pair_entries, reference_split
from training.verifier import Verifier, answer_text

log = logging.getLogger(__name__)

VERIFIED = 2  # the verifier reads the first two entries
BANDS = ((0.1, 0.97), (0.2, 0.9), (0.3, 0.8))  # gated: current confidences it verifies


@dataclass(frozen=True)
class Askings:
    """Rows: the open set's askings (both halves), then the closed set's."""

    searched: Searched
    top: np.ndarray  # (rows, DEPTH) indices of the entries found, best first
    question: np.ndarray  # (rows,) which question asked
    is_open: np.ndarray  # (rows,) bool

    def rows(self, mask: np.ndarray) -> Searched:
        s = self.searched
        return Searched(s.scores[mask], s.correct[mask], s.answerable[mask])


def _search(
    questions: np.ndarray, answers: np.ndarray, indexed: np.ndarray
) -> tuple[Searched, np.ndarray]:
    """`training.confidence.search_exact`, keeping which entries were found."""
    q = questions / np.linalg.norm(questions, axis=1, keepdims=True)
    a = answers / np.linalg.norm(answers, axis=1, keepdims=True)
    scores = q.astype(np.float32) @ a.astype(np.float32).T
    scores[:, ~indexed] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :DEPTH]
    searched = Searched(
        scores=np.take_along_axis(scores, top, axis=1).astype(np.float64),
        correct=top == np.arange(len(questions))[:, None],
        answerable=indexed.copy(),
    )
    return searched, top


def askings(questions: np.ndarray, answers: np.ndarray) -> Askings:
    n = len(questions)
    parts = [_search(questions, answers, np.arange(n) % 2 == half) for half in (0, 1)]
    parts.append(_search(questions, answers, np.ones(n, dtype=bool)))
    result = Askings(
        searched=Searched(
            scores=np.concatenate([p[0].scores for p in parts]),
            correct=np.concatenate([p[0].correct for p in parts]),
            answerable=np.concatenate([p[0].answerable for p in parts]),
        ),
        top=np.concatenate([p[1] for p in parts]),
        question=np.tile(np.arange(n), 3),
        is_open=np.arange(3 * n) < 2 * n,
    )
    reference = open_set(questions, answers)  # the same search as the module's
    np.testing.assert_allclose(result.searched.scores[: 2 * n], reference.scores, atol=1e-6)
    return result


def verifier_logits(
    verifier: Verifier, asked: Askings, questions: list[str], answers: list[str]
) -> tuple[np.ndarray, dict[str, float]]:
    """(rows, DEPTH) logits of each asking's first VERIFIED entries (NaN beyond), each distinct
    (question, answer) pair run once."""
    rows, ranks = np.meshgrid(np.arange(len(asked.top)), np.arange(VERIFIED), indexing="ij")
    pairs = np.stack([asked.question[rows], asked.top[rows, ranks]], axis=-1).reshape(-1, 2)
    unique, inverse = np.unique(pairs, axis=0, return_inverse=True)
    started = time.perf_counter()
    logits = verifier.logits(
        [questions[i] for i in unique[:, 0]],
        [answers[j] for j in unique[:, 1]],
        progress="verifying val pairs",
    )
    seconds = time.perf_counter() - started
    result = np.full(asked.top.shape, np.nan)
    result[:, :VERIFIED] = logits[inverse.reshape(-1)].reshape(-1, VERIFIED)
    return result, {"distinct_pairs": len(unique), "seconds": round(seconds, 1)}


# A conditional logit on any features: entries (rows, DEPTH, k) and "none of them" (rows, m);
# entries outside `mask` are not in the choice.
@dataclass(frozen=True)
class Design:
    entry: np.ndarray
    none: np.ndarray
    mask: np.ndarray

    def rows(self, which: np.ndarray) -> Design:
        return Design(self.entry[which], self.none[which], self.mask[which])


Features = Callable[[np.ndarray, np.ndarray], Design]  # (scores, verifier logits) -> Design


def current_features(scores: np.ndarray, logits: np.ndarray) -> Design:
    return Design(
        np.stack([scores, scores**2], axis=-1), none_features(scores), np.ones(scores.shape, bool)
    )


def verifier_features(scores: np.ndarray, logits: np.ndarray) -> Design:
    mask = np.zeros(scores.shape, bool)
    mask[:, :VERIFIED] = True
    return Design(np.nan_to_num(logits)[..., None], np.ones((len(scores), 1)), mask)


def combined_features(scores: np.ndarray, logits: np.ndarray) -> Design:
    verified = ~np.isnan(logits)
    return Design(
        np.stack([scores, scores**2, np.nan_to_num(logits), verified.astype(float)], axis=-1),
        none_features(scores),
        np.ones(scores.shape, bool),
    )


def probabilities(design: Design, theta: np.ndarray) -> np.ndarray:
    """(rows, 1 + DEPTH): none of them, then each entry (0 outside the mask)."""
    k = design.entry.shape[-1]
    utilities = np.concatenate(
        [
            (design.none @ theta[k:])[:, None],
            np.where(design.mask, design.entry @ theta[:k], -np.inf),
        ],
        axis=1,
    )
    utilities -= utilities.max(axis=1, keepdims=True)
    exp = np.exp(utilities)
    result: np.ndarray = exp / exp.sum(axis=1, keepdims=True)
    return result


def fit(design: Design, correct: np.ndarray) -> np.ndarray:
    """Maximum likelihood with the module's L2 (`training.confidence.fit_model`)."""
    own = correct & design.mask
    chosen = np.concatenate([~own.any(axis=1, keepdims=True), own], axis=1)

    def loss(theta: np.ndarray) -> float:
        p = probabilities(design, theta)
        return float(-np.log(p[chosen] + 1e-12).mean() + L2 * np.sum(theta**2))

    start = np.zeros(design.entry.shape[-1] + design.none.shape[-1])
    return np.asarray(minimize(loss, start, method="L-BFGS-B").x)


def cross_validated_choice(design: Design, asked: Askings) -> np.ndarray:
    """(rows, DEPTH) confidences, each row's from a model fitted on the open-set askings of the
    other folds' questions (folds by question, as `training.confidence.cross_validated`)."""
    fold = asked.question % FOLDS
    result = np.zeros(asked.top.shape)
    for f in range(FOLDS):
        train = asked.is_open & (fold != f)
        theta = fit(design.rows(train), asked.searched.correct[train])
        held = fold == f
        result[held] = probabilities(design.rows(held), theta)[:, 1:]
    return result


@dataclass(frozen=True)
class Answered:
    """Per asking: the confidence of the entry it would answer with, whether that is right."""

    confidence: np.ndarray
    right: np.ndarray


def answered(confidences: np.ndarray, correct: np.ndarray) -> Answered:
    pick = np.argmax(confidences, axis=1)
    rows = np.arange(len(pick))
    return Answered(confidences[rows, pick], correct[rows, pick])


def figures(result: Answered, asked: Askings) -> dict[str, Any]:
    """Open set at its operating point (the lowest confidence keeping 90% of answers right), and
    closed-set coverage at 90% precision, as `training.confidence` reports them."""
    o, c = asked.is_open, ~asked.is_open
    min_confidence = operating_point(result.confidence[o], result.right[o], TARGET_PRECISION)
    return {
        "min_confidence": round(min_confidence, 4),
        "open_set": rounded(
            {
                **decisions(
                    result.confidence[o],
                    result.right[o],
                    asked.searched.answerable[o],
                    min_confidence,
                ),
                "ece": expected_calibration_error(result.confidence[o], result.right[o]),
            }
        ),
        "closed_set": rounded(
            {
                "coverage_at_90_precision": coverage_at_precision(
                    result.confidence[c], result.right[c], TARGET_PRECISION
                ),
                "ece": expected_calibration_error(result.confidence[c], result.right[c]),
                "precision_at_1": float(result.right[c].mean()),
            }
        ),
    }


def logistic(current: Answered, logits: np.ndarray, asked: Askings) -> Answered:
    """P(first entry right) from [logit of the current confidence, verifier logits 1 and 2],
    cross-validated by question; the answer stays the first entry."""
    p = np.clip(current.confidence, 1e-6, 1 - 1e-6)
    x = np.column_stack([np.log(p / (1 - p)), logits[:, 0], logits[:, 1]])
    y = asked.searched.correct[:, 0]
    fold = asked.question % FOLDS
    out = np.zeros(len(y))
    for f in range(FOLDS):
        train = asked.is_open & (fold != f)
        model = LogisticRegression(C=100.0, max_iter=1000).fit(x[train], y[train])
        out[fold == f] = model.predict_proba(x[fold == f])[:, 1]
    return Answered(out, y)


def gated(current: Answered, combined: Answered, band: tuple[float, float]) -> Answered:
    inside = (current.confidence >= band[0]) & (current.confidence <= band[1])
    return Answered(
        np.where(inside, combined.confidence, current.confidence),
        np.where(inside, combined.right, current.right),
    )


@dataclass(frozen=True)
class Fitted:
    """A variant fitted on every open-set asking, with its cross-validated operating point."""

    features: Features
    theta: np.ndarray
    min_confidence: float


def out_of_domain(
    servable: Servable,
    verifier: Verifier,
    fitted: dict[str, Fitted],
    gates: dict[str, tuple[tuple[float, float], float]],
) -> dict[str, Any]:
    """`training.abstention.out_of_domain` for each variant: the same 40-entry FAQ of other
    trades, the same 200 questions, entries found by answer and FAQ question and ranked by the
    servable's model; the verifier reads the first VERIFIED of them."""
    model = servable.confidence_model
    assert model is not None
    rows = [json.loads(line) for line in PARAPHRASE_FAQ.read_text().splitlines() if line.strip()]
    faq = [parse_entry(r, require_question=True) for r in rows]
    index = {entry.question: i for i, entry in enumerate(faq)}
    asked_rows = [json.loads(line) for line in OUT_OF_DOMAIN.read_text().splitlines() if line]
    asked = [r["question"] for r in asked_rows]
    vectors = servable.encode(asked)
    answer_scores = vectors @ servable.encode_answers(faq).T
    question_scores = vectors @ servable.encode([e.question or "" for e in faq]).T
    own = np.array([index.get(r["covered_by"], -1) for r in asked_rows])
    covered = own >= 0

    scores = np.zeros((len(asked), DEPTH))
    entries = np.full((len(asked), DEPTH), -1)
    for i in range(len(asked)):
        found = _found(answer_scores[i], question_scores[i])
        order, _ = model.rank([(a, q) for _, a, q in found])
        scaled = [
            max(-1.0 if a is None else a, -1.0 if q is None else model.question_scale(q))
            for _, a, q in found
        ]
        for k, j in enumerate(order[:DEPTH]):
            scores[i, k], entries[i, k] = scaled[j], found[j][0]
    logits = np.full(scores.shape, np.nan)
    texts = [answer_text(e, verifier.context) for e in faq]
    logits[:, :VERIFIED] = verifier.logits(
        [q for q in asked for _ in range(VERIFIED)],
        [texts[j] for row in entries[:, :VERIFIED] for j in row],
    ).reshape(-1, VERIFIED)
    correct = entries == own[:, None]

    def decided(confidences: np.ndarray, min_confidence: float) -> tuple[np.ndarray, np.ndarray]:
        pick = np.argmax(confidences, axis=1)
        ranked = -np.sort(-confidences, axis=1)
        answers = np.array([decide(row, min_confidence).answered for row in ranked])
        return answers, correct[np.arange(len(pick)), pick]

    served = np.stack([model.confidences(row) for row in scores])
    results = {"current (as served)": decided(served, model.min_confidence)}
    conf: dict[str, np.ndarray] = {}
    for name, f in fitted.items():
        conf[name] = probabilities(f.features(scores, logits), f.theta)[:, 1:]
        results[name] = decided(conf[name], f.min_confidence)
    shares = {}
    for name, (band, min_confidence) in gates.items():
        first = conf["current"].max(axis=1)
        inside = (first >= band[0]) & (first <= band[1])
        mixed = np.where(inside[:, None], conf["combined"], conf["current"])
        results[name] = decided(mixed, min_confidence)
        shares[name] = round(float(inside.mean()), 4)
    kinds = _kinds(asked_rows)
    report: dict[str, Any] = {
        "questions": len(asked),
        "covered": int(covered.sum()),
        "gated_share_verified": shares,
    }
    for name, (answers, right) in results.items():
        report[name] = {
            **rounded(decisions(answers.astype(float), right, covered, 0.5)),
            "answered_by_kind": {
                kind: round(float(answers[mask].mean()), 4) for kind, mask in kinds.items()
            },
        }
    return report


def evaluate(
    servable: Servable, verifier: Verifier, val: list[FaqEntry], batch_size: int
) -> dict[str, Any]:
    # 1. The validation pairs as served, and each asking's entries.
    questions = servable.encode([e.question or "" for e in val], batch_size, "val questions")
    answers = servable.encode_answers(val, batch_size, "val answers")
    asked = askings(questions, answers)
    correct, scores = asked.searched.correct, asked.searched.scores
    # 2. The verifier on each asking's first entries.
    texts = [answer_text(e, verifier.context) for e in val]
    logits, cost = verifier_logits(verifier, asked, [e.question or "" for e in val], texts)
    # 3. Each variant cross-validated by question.
    designs: dict[str, Features] = {
        "current": current_features,
        "verifier": verifier_features,
        "combined": combined_features,
    }
    results = {
        name: answered(cross_validated_choice(features(scores, logits), asked), correct)
        for name, features in designs.items()
    }
    results["logistic"] = logistic(results["current"], logits, asked)
    share: dict[str, dict[str, float]] = {}
    bands = {f"gated {lo}-{hi}": (lo, hi) for lo, hi in BANDS}
    for name, band in bands.items():
        results[name] = gated(results["current"], results["combined"], band)
        inside = (results["current"].confidence >= band[0]) & (
            results["current"].confidence <= band[1]
        )
        share[name] = {
            "open_set": round(float(inside[asked.is_open].mean()), 4),
            "closed_set": round(float(inside[~asked.is_open].mean()), 4),
        }
    report: dict[str, Any] = {
        "val_pairs": len(val),
        "verifier_cost": cost,
        "variants": {name: figures(result, asked) for name, result in results.items()},
        "gated_share_verified": share,
    }
    # The module's own cross-validation of the current model: the same figures.
    module_cv = cross_validated(asked.rows(asked.is_open))
    ours = cross_validated_choice(current_features(scores, logits), asked)[asked.is_open]
    report["current_agrees_with_module"] = float(np.abs(module_cv - ours).max())
    # 4. Out of domain: each variant fitted on every open-set asking, decided at its
    # cross-validated operating point.
    fitted = {}
    for name, features in designs.items():
        design = features(scores, logits)
        theta = fit(design.rows(asked.is_open), correct[asked.is_open])
        fitted[name] = Fitted(features, theta, report["variants"][name]["min_confidence"])
    gates = {
        name: (band, report["variants"][name]["min_confidence"]) for name, band in bands.items()
    }
    report["out_of_domain"] = out_of_domain(servable, verifier, fitted, gates)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.verifier_eval", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument("--verifier", type=Path, required=True, help="verifier directory")
    parser.add_argument("--data", type=Path, required=True, help="pairs, split the reference way")
    parser.add_argument("--report", type=Path, help="also write the report here")
    parser.add_argument("--limit", type=int, help="only the first N validation pairs (a trial)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    servable = load_servable(args.model, "cpu", pack=True)
    verifier = Verifier(args.verifier)
    _, val = reference_split(load_pair_entries(args.data))
    val = val[: args.limit] if args.limit else val
    report = {
        "model_id": servable.model_id,
        "verifier": str(args.verifier),
        **evaluate(servable, verifier, val, settings.encode_batch_size),
    }
    text = json.dumps(report, indent=2)
    if args.report is not None:
        args.report.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
