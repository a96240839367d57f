"""Console scripts `faq-train` and `faq-eval`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from faq_core.answer_encoding import AnswerEncoding
from faq_core.errors import FaqError
from faq_core.servable import resolve_device
from faq_core.settings import Settings
from faq_core.sources import FORMATS, location
from training.evaluate import evaluate_models
from training.recipe import AUTO, RECIPES, Recipe, recipe_name
from training.train import (
    DEFAULT_ANSWER_ENCODING,
    FEEDBACK_REPEAT,
    TrainInputs,
    is_current,
    run_training,
)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def field_list(value: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in value.split(",") if name.strip())


def add_answer_encoding_arguments(parser: argparse.ArgumentParser) -> None:
    """How the servable will encode answers (`AnswerEncoding`); read back by `answer_encoding`."""
    default = DEFAULT_ANSWER_ENCODING
    parser.add_argument(
        "--answer-context",
        type=field_list,
        default=default.context,
        help="comma-separated entry fields whose values go before each answer when it is encoded"
        f" (default {','.join(default.context)}; '' for none; docs/quality.md)",
    )
    parser.add_argument(
        "--answer-context-weight",
        type=float,
        default=default.weight,
        help="share of the answer-in-context embedding mixed into each answer's vector; 1: the"
        " answers are trained on and encoded in context only"
        f" (default {default.weight})",
    )


def answer_encoding(args: argparse.Namespace, parser: argparse.ArgumentParser) -> AnswerEncoding:
    try:
        return AnswerEncoding(args.answer_context, args.answer_context_weight)
    except ValueError as exc:
        parser.error(str(exc))


def _recipe_from(args: argparse.Namespace, settings: Settings, entries: int) -> Recipe:
    recipe = RECIPES[recipe_name(args.recipe, resolve_device(settings.device), entries)]
    head = {"epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.lr}
    recipe = recipe.with_head(**{k: v for k, v in head.items() if v is not None})
    encoder = {
        "trainable_layers": args.layers,
        "epochs": args.encoder_epochs,
        "batch_size": args.encoder_batch_size,
        "learning_rate": args.encoder_lr,
        "base_share": args.base_share,
    }
    changes = {k: v for k, v in encoder.items() if v is not None}
    if changes:
        recipe = recipe.with_encoder(**changes)
    return recipe


def train_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-train", description="Fine-tune and write a servable."
    )
    parser.add_argument("--train", type=location, help=f"training pairs ({FORMATS})")
    parser.add_argument("--val", type=location, help=f"validation pairs ({FORMATS})")
    parser.add_argument(
        "--data",
        type=location,
        help=f"one file or URL, split the reference way (instead of --train/--val): {FORMATS}",
    )
    parser.add_argument(
        "--feedback",
        type=Path,
        action="append",
        default=[],
        help="accepted pairs from `faq-feedback export`, added to the training pairs (repeatable)",
    )
    parser.add_argument(
        "--feedback-repeat",
        type=int,
        default=FEEDBACK_REPEAT,
        help=f"times each feedback pair joins the training pairs (default {FEEDBACK_REPEAT})",
    )
    add_answer_encoding_arguments(parser)
    parser.add_argument("--out", type=Path, required=True, help="servable directory to write")
    parser.add_argument("--cache-dir", type=Path, default=Path("var/cache/embeddings"))
    parser.add_argument("--limit", type=int, help="use only the first N pairs of each file")
    parser.add_argument(
        "--recipe",
        choices=[AUTO, *sorted(RECIPES)],
        default=AUTO,
        help="auto (the default): gpu when training runs on CUDA, else default; default: tune the"
        " top 4 encoder layers (about 9 minutes on 2 idle CPU cores); gpu: tune all six, bigger"
        " batches; head: frozen encoder, head only",
    )
    encoder = parser.add_argument_group("encoder tuning (overrides the recipe)")
    encoder.add_argument(
        "--layers", type=int, help="top encoder layers to tune (0: frozen encoder)"
    )
    encoder.add_argument("--encoder-epochs", type=int)
    encoder.add_argument("--encoder-batch-size", type=int)
    encoder.add_argument("--encoder-lr", type=float)
    encoder.add_argument(
        "--base-share",
        type=float,
        help="share of the untuned weights averaged back in after tuning (0: none)",
    )
    head = parser.add_argument_group("head training (overrides the recipe)")
    head.add_argument("--epochs", type=int, help="head epochs (0: no head)")
    head.add_argument("--batch-size", type=int)
    head.add_argument("--lr", type=float)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--skip-if-current",
        action="store_true",
        help="do nothing when --out already holds a servable trained the same way on the same data",
    )
    args = parser.parse_args(argv)
    if (args.data is None) == (args.train is None or args.val is None):
        parser.error("give either --data, or both --train and --val")
    if args.feedback_repeat < 1:
        parser.error("--feedback-repeat must be at least 1")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    settings = Settings()
    inputs = TrainInputs(
        train=args.train,
        val=args.val,
        data=args.data,
        limit=args.limit,
        feedback=tuple(args.feedback),
        feedback_repeat=args.feedback_repeat,
        answer_encoding=answer_encoding(args, parser),
    )
    try:
        entries = inputs.entries()  # read once: its size picks the recipe, then it trains
        recipe = _recipe_from(args, settings, sum(map(len, entries)))
        if args.skip_if_current and is_current(
            args.out, inputs, recipe.head, settings, recipe.encoder
        ):
            print(f"{args.out} is up to date with this data and training settings; not retraining")
            return
        metrics = run_training(
            inputs,
            args.out,
            settings,
            recipe.head,
            args.cache_dir,
            encoder=recipe.encoder,
            progress=not args.quiet,
            entries=entries,
        )
    except FaqError as exc:
        _fail(str(exc))
    print(json.dumps(metrics, indent=2))


def eval_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="faq-eval",
        description="Precision@1 and MRR of servables, pool and ask protocols, as JSON.",
    )
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        help="servable dir (repeat to compare; DIR:int8 or DIR:bf16 = as FAQ_QUANTIZE=int8 or "
        "bf16 runs it; 'untuned' = base)",
    )
    parser.add_argument(
        "--data", type=location, required=True, help=f"pairs to evaluate on ({FORMATS})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = Settings()
    try:
        result = evaluate_models(
            args.model, args.data, settings.device, settings.encode_batch_size, settings.base_model
        )
    except FaqError as exc:
        _fail(str(exc))
    print(json.dumps(result, indent=2))
