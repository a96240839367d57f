"""Does the service know when it has no answer? A servable's own confidence model (as it serves,
not fitted again) on FAQs and questions it never trained on.

1. Open set on a pairs file (`--data`, e.g. the forgetting check's held-out sources): the answers
   of every other entry indexed, every question asked (`training.confidence`).
2. Out of domain: the hand-written FAQ of eight other trades (`checks/paraphrase_faq.jsonl`, 40
   entries) indexed as the service indexes it, answers and FAQ questions, and asked 200 user
   questions written for this check (`checks/out_of_domain.jsonl`): 40 rewordings of its
   questions, 120 questions of the same trades that none of its answers answers, 40 off-topic or
   nonsense ones. Real deployments meet far more uncovered questions than a validation split.

Each is compared with always abstaining and with the raw score cut-off (`threshold.score`).

    python -m training.abstention --model var/model [--data heldout.jsonl]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from faq_core.confidence import DEPTH, ConfidenceModel, decide
from faq_core.entries import parse_entry
from faq_core.servable import Servable, load_servable
from faq_core.settings import Settings
from training.confidence import (
    closed_set,
    closed_set_figures,
    confidences,
    decisions,
    open_set,
    open_set_figures,
    operating_point,
    rounded,
)
from training.data import load_pair_entries

CHECKS = Path(__file__).parent / "checks"
PARAPHRASE_FAQ = CHECKS / "paraphrase_faq.jsonl"
OUT_OF_DOMAIN = CHECKS / "out_of_domain.jsonl"


def _model(servable: Servable) -> ConfidenceModel:
    model = servable.confidence_model
    if model is None:
        raise SystemExit(f"servable {servable.model_id} has no confidence model: re-train it")
    return model


def open_set_check(
    model: ConfidenceModel,
    questions: np.ndarray,
    answers: np.ndarray,
    raw_threshold: float | None = None,
) -> dict[str, Any]:
    """The open-set protocol on these pairs' embeddings, decided at the model's own operating
    point (and, for comparison, by the raw score at `raw_threshold`); the closed set too; and the
    operating point these pairs would choose themselves."""
    searched = open_set(questions, answers)
    first, right = confidences(model, searched)[:, 0], searched.correct[:, 0]
    own_point = operating_point(first, right, model.target_precision)
    figures: dict[str, Any] = {
        "pairs": len(questions),
        "min_confidence": model.min_confidence,
        "open_set": open_set_figures(first, right, searched.answerable, model.min_confidence),
        "closed_set": closed_set_figures(model, closed_set(questions, answers)),
        # On an FAQ unlike the validation split the servable's point may keep fewer than
        # `target_precision` of the answers right; this is the FAQ_MIN_CONFIDENCE that keeps
        # them right on these pairs, and what it decides.
        "own_operating_point": {
            "min_confidence": round(own_point, 4),
            **open_set_figures(first, right, searched.answerable, own_point),
        },
    }
    if raw_threshold is not None:
        raw = searched.scores[:, 0]
        figures["raw_score"] = rounded(decisions(raw, right, searched.answerable, raw_threshold))
    return figures


def _found(
    answer_scores: np.ndarray, question_scores: np.ndarray
) -> list[tuple[int, float | None, float | None]]:
    """What the store's search returns for one question: each vector's top DEPTH entries,
    merged, each entry with the scores of the vectors that found it, the best DEPTH by raw
    score (`AnswerStore.search_each`)."""
    by_answer = np.argsort(-answer_scores)[:DEPTH]
    by_question = np.argsort(-question_scores)[:DEPTH]
    found: dict[int, list[float | None]] = {}
    for i in by_answer:
        found.setdefault(int(i), [None, None])[0] = float(answer_scores[i])
    for i in by_question:
        found.setdefault(int(i), [None, None])[1] = float(question_scores[i])
    best = sorted(found.items(), key=lambda item: -max(s for s in item[1] if s is not None))
    return [(i, a, q) for i, (a, q) in best[:DEPTH]]


def out_of_domain(servable: Servable) -> dict[str, Any]:
    """The out-of-domain check (module doc), decided at the servable's operating point."""
    model = _model(servable)
    rows = [json.loads(line) for line in PARAPHRASE_FAQ.read_text().splitlines() if line.strip()]
    faq = [parse_entry(r, require_question=True) for r in rows]
    index = {entry.question: i for i, entry in enumerate(faq)}
    asked = [json.loads(line) for line in OUT_OF_DOMAIN.read_text().splitlines() if line.strip()]
    questions = servable.encode([r["question"] for r in asked])
    answer_scores = questions @ servable.encode_answers(faq).T
    question_scores = questions @ servable.encode([e.question or "" for e in faq]).T
    own = np.array([index.get(r["covered_by"], -1) for r in asked])
    covered = own >= 0

    first_right, answered = [], []
    raw_first, raw_right = [], []  # the entry scoring best, raw, comes first in the search
    for i in range(len(asked)):
        found = _found(answer_scores[i], question_scores[i])
        order, conf = model.rank([(a, q) for _, a, q in found])
        first_right.append(found[order[0]][0] == own[i])
        answered.append(decide(conf, model.min_confidence).answered)
        raw_first.append(max(s for s in found[0][1:] if s is not None))
        raw_right.append(found[0][0] == own[i])
    right = np.array(first_right)
    figures: dict[str, Any] = {
        "faq_entries": len(faq),
        "questions": len(asked),
        "covered": int(covered.sum()),
        "min_confidence": model.min_confidence,
        "model": rounded(decisions(np.array(answered, float), right, covered, 0.5)),
    }
    if servable.score_threshold is not None:
        figures["raw_score"] = rounded(
            decisions(np.array(raw_first), np.array(raw_right), covered, servable.score_threshold)
        )
    figures["by_kind"] = {
        kind: {
            "questions": int(mask.sum()),
            "answered": round(float(np.mean(np.array(answered)[mask])), 4),
        }
        for kind, mask in _kinds(asked).items()
    }
    return figures


def _kinds(asked: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    covered = np.array([r["covered_by"] is not None for r in asked])
    off_topic = np.array([r["source"] is None for r in asked])
    return {
        "covered": covered,
        "uncovered, same trades": ~covered & ~off_topic,
        "off-topic": off_topic,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.abstention", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument("--data", type=Path, help="pairs for the open-set protocol too")
    args = parser.parse_args(argv)
    settings = Settings()
    servable = load_servable(args.model, settings.device, pack=True)
    report: dict[str, Any] = {"model_id": servable.model_id}
    if args.data is not None:
        entries = load_pair_entries(args.data)
        report["open_set"] = open_set_check(
            _model(servable),
            servable.encode([e.question or "" for e in entries], settings.encode_batch_size),
            servable.encode_answers(entries, settings.encode_batch_size),
            servable.score_threshold,
        )
    report["out_of_domain"] = out_of_domain(servable)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
