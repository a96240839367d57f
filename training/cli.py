"""Console scripts `faq-train` and `faq-eval`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from faq_core.errors import FaqError
from faq_core.settings import Settings
from training.evaluate import evaluate_models
from training.loop import TrainConfig
from training.train import TrainInputs, is_current, run_training


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def train_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="faq-train", description="Fine-tune and write a servable.")
    parser.add_argument("--train", type=Path, help="training pairs (JSON Lines)")
    parser.add_argument("--val", type=Path, help="validation pairs (JSON Lines)")
    parser.add_argument("--data", type=Path, help="one file, split the reference way (instead of --train/--val)")
    parser.add_argument("--out", type=Path, required=True, help="servable directory to write")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache/embeddings"))
    parser.add_argument("--limit", type=int, help="use only the first N pairs of each file")
    defaults = TrainConfig()
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.learning_rate)
    parser.add_argument("--no-same-side-negatives", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--skip-if-current",
        action="store_true",
        help="do nothing when --out already holds a servable trained the same way on the same data",
    )
    args = parser.parse_args(argv)
    if (args.data is None) == (args.train is None or args.val is None):
        parser.error("give either --data, or both --train and --val")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        same_side_negatives=not args.no_same_side_negatives,
    )
    inputs = TrainInputs(train=args.train, val=args.val, data=args.data, limit=args.limit)
    settings = Settings()
    if args.skip_if_current and is_current(args.out, inputs, config, settings):
        print(f"{args.out} is up to date with this data and training settings; not retraining")
        return
    try:
        metrics = run_training(inputs, args.out, settings, config, args.cache_dir, progress=not args.quiet)
    except FaqError as exc:
        _fail(str(exc))
    print(json.dumps(metrics, indent=2))


def eval_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-eval", description="Precision@1 and MRR of servables, pool and ask protocols, as JSON."
    )
    parser.add_argument(
        "--model", action="append", required=True, help="servable dir (repeat to compare; 'untuned' = base)"
    )
    parser.add_argument("--data", type=Path, required=True, help="pairs to evaluate on (JSON Lines)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    try:
        result = evaluate_models(args.model, args.data, settings.device, settings.encode_batch_size)
    except FaqError as exc:
        _fail(str(exc))
    print(json.dumps(result, indent=2))
