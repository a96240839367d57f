"""Does fine-tuning make the model worse on questions unlike its training data?

Two checks, each comparing the tuned servable with the untuned base encoder on the same pairs:

1. Held-out sources: train with the chosen recipe (`auto`: as faq-train picks it) on the
   training pairs of every source except the held-out ones (the epoch is chosen on the
   validation pairs of the kept sources too), then evaluate both models on every pair of the
   held-out sources, which training never saw.
2. Paraphrases: `checks/paraphrase_faq.jsonl`, 40 FAQ entries from other trades (shop, bank,
   telecom, travel, hotel, HR, IT, utility) written for this check, each with a user's
   paraphrase of its question. The answers (and, service style, also the FAQ questions) are
   indexed and the paraphrases asked.

    python -m training.forgetting --train F --val F --out var/forgetting    # both checks
    python -m training.forgetting --model DIR                               # check 2 only

A check passes when the tuned model loses no more than `--tolerance` MRR anywhere.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from faq_core.entries import FaqEntry, parse_entry
from faq_core.servable import Servable, load_servable, resolve_device
from faq_core.settings import Settings
from training.abstention import out_of_domain
from training.cli import add_answer_encoding_arguments, answer_encoding
from training.data import load_pair_entries
from training.evaluate import UNTUNED, differences, evaluate_entries, load_model
from training.metrics import ask_retrieval
from training.recipe import AUTO, RECIPES, Recipe, recipe_name
from training.train import TrainInputs, run_training

PARAPHRASES = Path(__file__).parent / "checks" / "paraphrase_faq.jsonl"
DEFAULT_HOLDOUT = ("gcp", "hetzner", "azure", "yandex_cloud")


def write_entries(entries: list[FaqEntry], path: Path) -> Path:
    """As a pairs file, every field kept (the answer context reads some of them)."""
    with path.open("w") as handle:
        for entry in entries:
            handle.write(json.dumps(entry.data_line()) + "\n")
    return path


def _by_source(entries: list[FaqEntry], keep: bool, sources: set[str]) -> list[FaqEntry]:
    return [e for e in entries if (e.source in sources) == keep]


def paraphrase_check(servable: Servable, path: Path = PARAPHRASES) -> dict[str, Any]:
    """P@1 and MRR of paraphrased questions against the answers, and against answers + questions
    (the service stores both; an entry counts as found when either of its vectors ranks first)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    entries = [parse_entry(r, require_question=True) for r in rows]
    paraphrases = servable.encode([r["paraphrase"] for r in rows])
    answers = servable.encode_answers(entries)
    questions = servable.encode([r["question"] for r in rows])
    both = np.maximum(paraphrases @ answers.T, paraphrases @ questions.T)
    return {
        "entries": len(rows),
        "ask": ask_retrieval(paraphrases, answers).as_dict(),
        "ask_answers_and_questions": _ranked(both),
    }


def _ranked(scores: np.ndarray) -> dict[str, float]:
    target = np.diag(scores)[:, None]
    ranks = (scores > target).sum(axis=1) + 1
    return {
        "precision_at_1": round(float((ranks == 1).mean()), 4),
        "mrr": round(float((1 / ranks).mean()), 4),
    }


def _verdict(delta: dict[str, dict[str, float]], tolerance: float) -> bool:
    return all(metrics["mrr"] >= -tolerance for metrics in delta.values())


def compare(
    tuned: Servable, untuned: Servable, heldout: list[FaqEntry] | None, tolerance: float
) -> dict[str, Any]:
    report: dict[str, Any] = {"tolerance_mrr": tolerance}
    checks = []
    if heldout is not None:
        per_source: dict[str, Any] = {}
        sets = {"all held-out": heldout} | {
            s: _by_source(heldout, True, {s}) for s in sorted({e.source or "" for e in heldout})
        }
        for name, entries in sets.items():
            before, after = evaluate_entries(untuned, entries), evaluate_entries(tuned, entries)
            delta = differences(before, after)
            per_source[name] = {
                "pairs": len(entries),
                "untuned": before,
                "tuned": after,
                "difference": delta,
            }
        report["heldout_sources"] = per_source
        checks.append(_verdict(per_source["all held-out"]["difference"], tolerance))
    before, after = paraphrase_check(untuned), paraphrase_check(tuned)
    delta = {
        k: {m: round(after[k][m] - before[k][m], 4) for m in after[k]}
        for k in ("ask", "ask_answers_and_questions")
    }
    report["paraphrases"] = {"untuned": before, "tuned": after, "difference": delta}
    checks.append(_verdict(delta, tolerance))
    # Reported, not judged: whether the tuned servable knows when it has no answer off its
    # training data (its held-out figures are under heldout_sources too, "confidence").
    if tuned.confidence_model is not None:
        report["out_of_domain"] = out_of_domain(tuned)
    report["passed"] = all(checks)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.forgetting", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--train", type=Path, help="training pairs; with --val: train with sources held out"
    )
    parser.add_argument("--val", type=Path)
    parser.add_argument(
        "--holdout", default=",".join(DEFAULT_HOLDOUT), help="comma-separated sources"
    )
    parser.add_argument("--out", type=Path, default=Path("var/forgetting"))
    parser.add_argument(
        "--recipe",
        choices=[AUTO, *sorted(RECIPES)],
        default=AUTO,
        help="auto: the gpu recipe when training runs on CUDA, else the default (CPU) one",
    )
    add_answer_encoding_arguments(parser)  # as faq-train's
    parser.add_argument("--model", type=Path, help="only the paraphrase check of this servable")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache/embeddings"))
    parser.add_argument(
        "--tolerance", type=float, default=0.01, help="MRR the tuned model may lose"
    )
    args = parser.parse_args(argv)
    encoding = answer_encoding(args, parser)
    if (args.model is None) == (args.train is None or args.val is None):
        parser.error("give either --model, or both --train and --val")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings()
    untuned = load_model(UNTUNED, settings.device, settings.base_model)
    heldout = None
    if args.model is not None:
        tuned = load_servable(args.model, settings.device)
    else:
        holdout = {s.strip() for s in args.holdout.split(",") if s.strip()}
        train, val = load_pair_entries(args.train), load_pair_entries(args.val)
        args.out.mkdir(parents=True, exist_ok=True)
        kept_train = write_entries(_by_source(train, False, holdout), args.out / "kept_train.jsonl")
        kept_val = write_entries(_by_source(val, False, holdout), args.out / "kept_val.jsonl")
        heldout = _by_source(train, True, holdout) + _by_source(val, True, holdout)
        write_entries(heldout, args.out / "heldout.jsonl")
        name = recipe_name(args.recipe, resolve_device(settings.device))
        recipe: Recipe = RECIPES[name]
        run_training(
            TrainInputs(train=kept_train, val=kept_val, answer_encoding=encoding),
            args.out / "model",
            settings,
            recipe.head,
            args.cache_dir,
            encoder=recipe.encoder,
        )
        tuned = load_servable(args.out / "model", settings.device)
    report = compare(tuned, untuned, heldout, args.tolerance)
    if args.model is None:
        report["holdout"] = sorted(holdout)
        report["recipe"] = name
        report.update(encoding.record())
        (args.out / "forgetting.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
