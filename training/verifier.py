"""An experiment for the no-answer issue: a cross-encoder verifier that reads the question and a
candidate answer together, for the first entries a search returns.

The bi-encoder scores a question and an answer apart, each as one vector; the verifier reads
"[CLS] question [SEP] answer [SEP]" (the answer with its page before it, as the servable encodes
it in context) and gives one logit, "this answer answers this question". It starts from the
servable's own tuned MiniLM weights (a fresh one-logit classifier on top) and is trained on the
training pairs: each question with its own answer (label 1), with the answers the bi-encoder
ranks highest among the others, same product first, and with one at random (label 0).

Not wired into the service: `training.verifier_eval` measures whether it earns its place
(docs/verifier.md).

    python -m training.verifier train --model var/model --data cloud_faq_dataset.jsonl \
        --out /tmp/verifier [--threads 1]
    python -m training.verifier timing --verifier /tmp/verifier --data cloud_faq_dataset.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from faq_core.entries import FaqEntry
from faq_core.progress import progress_bar, route_transformers_bars
from faq_core.quantize import cpu_has_native_bf16, read_cpu_flags
from faq_core.servable import Servable, default_base_model, load_servable
from faq_core.settings import Settings
from training.data import load_pair_entries, reference_split

log = logging.getLogger(__name__)

MAX_LENGTH = 256
SETUP_FILE = "verifier.json"


@dataclass(frozen=True)
class VerifierRecipe:
    negatives: int = 2  # mined, per positive
    # Per positive, besides: another training answer at random. Mined negatives alone leave
    # nothing easy to start from: at 3e-5 the loss stayed at the base rate's for 250 steps.
    random_negatives: int = 1
    mining_depth: int = 20  # negatives come from this many nearest wrong answers
    questions: int | None = None  # train questions used (a random subset); None: all
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup: float = 0.1
    weight_decay: float = 0.01
    max_length: int = MAX_LENGTH
    # Word embeddings (half of MiniLM's weights, whose AdamW step would be most of an update's
    # cost on a CPU) and this many lower layers stay as they start. Position and segment
    # embeddings are trained: the bi-encoder never saw a second segment.
    frozen_layers: int = 0
    freeze_embeddings: bool = True
    # Matrix products in bfloat16 (autocast; the weights stay float32) where the CPU computes
    # bfloat16 natively (AMX): ~2x the pairs a second of float32 on this machine's two cores.
    bf16: bool = False
    seed: int = 42


def answer_text(entry: FaqEntry, context: Sequence[str]) -> str:
    """The answer as the verifier reads it: with its page before it, as the servable encodes it
    in context ("aws chime faq: ..."); the product is often named only there."""
    return entry.answer_text(context)


def transformer_dir(model: Path) -> Path:
    """The servable's tuned MiniLM (a sentence-transformers directory), else the base model."""
    tuned = Path(model) / "encoders" / "default"
    return tuned if (tuned / "model.safetensors").is_file() else Path(default_base_model())


def mine_negatives(
    questions: np.ndarray,
    answers: np.ndarray,
    answer_texts: Sequence[str],
    sources: Sequence[str | None],
    count: int,
    depth: int = 20,
    chunk: int = 1024,
) -> np.ndarray:
    """(questions, count) indices of answers to use as negatives: among each question's `depth`
    nearest answers (unit vectors, cosine) that are not its own answer's text, those of the same
    source first, each group in rank order."""
    keys = np.unique(np.asarray(answer_texts, dtype=object), return_inverse=True)[1]
    src = np.array([s or "" for s in sources], dtype=object)
    picks = np.empty((len(questions), count), dtype=np.int64)
    for start in range(0, len(questions), chunk):
        rows = np.arange(start, min(len(questions), start + chunk))
        scores = questions[rows] @ answers.T
        scores[keys[None, :] == keys[rows][:, None]] = -np.inf
        top = np.argsort(-scores, axis=1)[:, :depth]
        for r, row in enumerate(rows):
            near = top[r][np.isfinite(scores[r, top[r]])]
            same = src[near] == src[row]
            ranked = np.concatenate([near[same], near[~same]])
            if len(ranked) < count:
                raise ValueError(f"question {row} has fewer than {count} wrong answers to mine")
            picks[row] = ranked[:count]
    return picks


@dataclass(frozen=True)
class LabelledPairs:
    questions: list[str]
    answers: list[str]
    labels: np.ndarray  # float32, 1 = the answer answers the question


def training_pairs(
    train: list[FaqEntry], servable: Servable, recipe: VerifierRecipe, batch_size: int = 64
) -> tuple[LabelledPairs, dict[str, Any]]:
    """Each (sampled) training question with its own answer, `recipe.negatives` mined ones (all
    answers embedded as the servable serves them, searched among the training answers) and
    `recipe.random_negatives` others of another text."""
    context = servable.answer_encoding.context
    question_vectors = servable.encode([e.question or "" for e in train], batch_size, "questions")
    answer_vectors = servable.encode_answers(train, batch_size, "answers")
    texts = [answer_text(e, context) for e in train]
    negatives = mine_negatives(
        question_vectors,
        answer_vectors,
        [e.answer for e in train],
        [e.source for e in train],
        recipe.negatives,
        recipe.mining_depth,
    )
    rng = np.random.default_rng(recipe.seed)
    chosen = np.arange(len(train))
    if recipe.questions is not None and recipe.questions < len(train):
        chosen = np.sort(rng.choice(len(train), recipe.questions, replace=False))
    questions, answers, labels = [], [], []
    same_source = 0
    for i in chosen:
        question = train[i].question or ""
        questions.append(question)
        answers.append(texts[i])
        labels.append(1.0)
        for j in negatives[i]:
            questions.append(question)
            answers.append(texts[j])
            labels.append(0.0)
            same_source += train[j].source == train[i].source
        for _ in range(recipe.random_negatives):
            j = int(rng.integers(len(train)))
            while train[j].answer == train[i].answer:
                j = int(rng.integers(len(train)))
            questions.append(question)
            answers.append(texts[j])
            labels.append(0.0)
    stats = {
        "questions": len(chosen),
        "pairs": len(labels),
        "negatives_same_source": round(same_source / max(1, len(chosen) * recipe.negatives), 4),
    }
    return LabelledPairs(questions, answers, np.asarray(labels, dtype=np.float32)), stats


def _batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of indices of about equal length (little padding): shuffle, sort each
    run of 50 batches by length, cut, shuffle the batches."""
    order = rng.permutation(len(lengths))
    span = batch_size * 50
    batches = []
    for start in range(0, len(order), span):
        block = order[start : start + span]
        block = block[np.argsort(lengths[block], kind="stable")]
        batches += [block[i : i + batch_size] for i in range(0, len(block), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _trainable(model: torch.nn.Module, recipe: VerifierRecipe) -> list[torch.nn.Parameter]:
    """Freeze what the recipe keeps (embeddings, lower layers); the rest is trained."""
    frozen = [f"encoder.layer.{i}." for i in range(recipe.frozen_layers)]
    if recipe.freeze_embeddings:
        frozen.append("embeddings.word_embeddings.")
    if recipe.frozen_layers:
        frozen.append("embeddings.")
    trainable = []
    for name, parameter in model.named_parameters():
        parameter.requires_grad = not any(part in name for part in frozen)
        if parameter.requires_grad:
            trainable.append(parameter)
    return trainable


def train_verifier(
    pairs: LabelledPairs, start: Path, recipe: VerifierRecipe, progress: bool = True
) -> tuple[torch.nn.Module, Any, float]:
    """A one-logit cross-encoder from `start`'s weights, trained with binary cross-entropy;
    returns the model, its tokenizer and the seconds taken."""
    torch.manual_seed(recipe.seed)
    route_transformers_bars()
    tokenizer = AutoTokenizer.from_pretrained(str(start))
    model = AutoModelForSequenceClassification.from_pretrained(str(start), num_labels=1)
    encoded = tokenizer(
        pairs.questions, pairs.answers, truncation="only_second", max_length=recipe.max_length
    )
    lengths = np.array([len(ids) for ids in encoded["input_ids"]])
    rng = np.random.default_rng(recipe.seed)
    steps = recipe.epochs * math.ceil(len(lengths) / recipe.batch_size)
    trainable = _trainable(model, recipe)
    optimizer = torch.optim.AdamW(
        trainable, lr=recipe.learning_rate, weight_decay=recipe.weight_decay
    )
    warmup = max(1, int(recipe.warmup * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (steps - step) / max(1, steps - warmup))),
    )
    loss_fn = torch.nn.BCEWithLogitsLoss()
    labels = torch.as_tensor(pairs.labels)
    model.train()
    started = time.perf_counter()
    bar = progress_bar(total=steps, desc="training verifier", unit="batch", disable=not progress)
    running = None
    for _ in range(recipe.epochs):
        for batch in _batches(lengths, recipe.batch_size, rng):
            features = tokenizer.pad(
                {k: [encoded[k][i] for i in batch] for k in encoded}, return_tensors="pt"
            )
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=recipe.bf16):
                logits = model(**features).logits.squeeze(-1)
            loss = loss_fn(logits.float(), labels[batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            value = loss.item()
            running = value if running is None else 0.98 * running + 0.02 * value
            bar.update(1)
            bar.set_postfix(loss=f"{running:.3f}")
    bar.close()
    model.eval()
    return model, tokenizer, time.perf_counter() - started


class Verifier:
    """A saved verifier: logits for (question, answer) pairs."""

    def __init__(self, path: Path, max_length: int | None = None) -> None:
        route_transformers_bars()
        self.path = Path(path)
        setup_file = self.path / SETUP_FILE
        self.setup = json.loads(setup_file.read_text()) if setup_file.is_file() else {}
        self.max_length = max_length or self.setup.get("recipe", {}).get("max_length", MAX_LENGTH)
        self.context = tuple(self.setup.get("answer_context", ()))
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        self.model = AutoModelForSequenceClassification.from_pretrained(str(self.path)).eval()

    def features(self, questions: list[str], answers: list[str]) -> dict[str, torch.Tensor]:
        return dict(
            self.tokenizer(
                questions,
                answers,
                truncation="only_second",
                max_length=self.max_length,
                padding=True,
                return_tensors="pt",
            )
        )

    def logits(
        self,
        questions: list[str],
        answers: list[str],
        batch_size: int = 64,
        progress: str | None = None,
    ) -> np.ndarray:
        """One logit per pair, in the order given (pairs are run shortest first)."""
        if not questions:
            return np.zeros(0, dtype=np.float32)
        order = np.argsort([len(q) + len(a) for q, a in zip(questions, answers, strict=True)])
        out = np.empty(len(questions), dtype=np.float32)
        starts = range(0, len(order), batch_size)
        with torch.inference_mode():
            for start in progress_bar(
                starts, desc=progress, unit="batch", disable=progress is None
            ):
                rows = order[start : start + batch_size]
                features = self.features([questions[i] for i in rows], [answers[i] for i in rows])
                out[rows] = self.model(**features).logits.squeeze(-1).float().numpy()
        return out


def _native_bf16() -> bool:
    flags = read_cpu_flags()
    return flags is not None and cpu_has_native_bf16(flags)


def train_main(args: argparse.Namespace) -> None:
    # 1. Data: the reference split, as faq-train makes it.
    train, _ = reference_split(load_pair_entries(args.data))
    recipe = VerifierRecipe(
        negatives=args.negatives,
        random_negatives=args.random_negatives,
        questions=args.questions,
        learning_rate=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        max_length=args.max_length,
        frozen_layers=args.frozen_layers,
        bf16=args.bf16 if args.bf16 is not None else _native_bf16(),
    )
    # 2. Negatives mined by the servable's bi-encoder among the training answers.
    settings = Settings()
    servable = load_servable(args.model, "cpu", pack=True)
    mining_started = time.perf_counter()
    pairs, stats = training_pairs(train, servable, recipe, settings.encode_batch_size)
    mining_seconds = time.perf_counter() - mining_started
    log.info("%s in %.0f s", stats, mining_seconds)
    # 3. Model, loss, train: a cross-encoder from the servable's own weights, BCE.
    start = transformer_dir(args.model)
    model, tokenizer, seconds = train_verifier(pairs, start, recipe, progress=not args.quiet)
    # 4. Save, with how it was made.
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(args.out))  # type: ignore[operator]
    tokenizer.save_pretrained(str(args.out))
    setup = {
        "initialised_from": str(start),
        "servable_id": servable.model_id,
        "answer_context": list(servable.answer_encoding.context),
        "recipe": asdict(recipe),
        "data": stats,
        "mining_seconds": round(mining_seconds, 1),
        "training_seconds": round(seconds, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (args.out / SETUP_FILE).write_text(json.dumps(setup, indent=2))
    print(json.dumps(setup, indent=2))


def _time_per_pair(
    verifier: Verifier,
    questions: list[str],
    answers: list[str],
    batch: int,
    pad: bool,
    bf16: bool,
) -> float:
    """Median milliseconds per pair over the pairs, `batch` pairs per forward, tokenizing
    included; `pad` pads every batch to the maximum length (the worst case); `bf16` autocasts."""
    times = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for start in range(0, len(questions) - batch + 1, batch):
            q, a = questions[start : start + batch], answers[start : start + batch]
            began = time.perf_counter()
            if pad:
                features = dict(
                    verifier.tokenizer(
                        q,
                        a,
                        truncation="only_second",
                        max_length=verifier.max_length,
                        padding="max_length",
                        return_tensors="pt",
                    )
                )
            else:
                features = verifier.features(q, a)
            verifier.model(**features)
            times.append((time.perf_counter() - began) * 1000 / batch)
    return float(np.median(times))


def timing_main(args: argparse.Namespace) -> None:
    """Milliseconds per (question, answer) pair at batch 1 and 2, on 1 and 2 threads."""
    verifier = Verifier(args.verifier)
    _, val = reference_split(load_pair_entries(args.data))
    rng = np.random.default_rng(0)
    sample = [val[i] for i in rng.choice(len(val), args.pairs, replace=False)]
    questions = [e.question or "" for e in sample]
    answers = [answer_text(e, verifier.context) for e in sample]
    tokens = verifier.features(questions, answers)["attention_mask"].sum(1).tolist()
    report: dict[str, Any] = {
        "pairs": len(sample),
        "tokens_median": int(np.median(tokens)),
        "max_length": verifier.max_length,
        "ms_per_pair": {},
    }
    precisions = (False, True) if _native_bf16() else (False,)
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for bf16, pad, batch in itertools.product(precisions, (False, True), (1, 2)):
            _time_per_pair(verifier, questions, answers, batch, pad, bf16)  # warm up
            key = (
                f"threads={threads} {'bf16' if bf16 else 'fp32'} batch={batch} "
                f"{'padded to max' if pad else 'as is'}"
            )
            report["ms_per_pair"][key] = round(
                _time_per_pair(verifier, questions, answers, batch, pad, bf16), 2
            )
    print(json.dumps(report, indent=2))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.verifier", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="mine negatives, train, save")
    train.add_argument("--model", type=Path, required=True, help="servable directory")
    train.add_argument("--data", type=Path, required=True, help="pairs, split the reference way")
    train.add_argument("--out", type=Path, required=True, help="verifier directory to write")
    train.add_argument("--negatives", type=int, default=VerifierRecipe.negatives)
    train.add_argument("--random-negatives", type=int, default=VerifierRecipe.random_negatives)
    train.add_argument("--questions", type=int, help="train on a random subset of questions")
    train.add_argument("--lr", type=float, default=VerifierRecipe.learning_rate)
    train.add_argument("--epochs", type=int, default=VerifierRecipe.epochs)
    train.add_argument("--batch-size", type=int, default=VerifierRecipe.batch_size)
    train.add_argument("--max-length", type=int, default=MAX_LENGTH)
    train.add_argument(
        "--frozen-layers", type=int, default=0, help="lower encoder layers kept as they start"
    )
    train.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        help="autocast to bfloat16 (default: where the CPU computes it natively)",
    )
    train.add_argument(
        "--threads",
        type=int,
        help="torch threads (default: all cores; on cores shared with other jobs, fewer "
        "threads than cores keeps each training step from waiting on a descheduled thread)",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    timing = commands.add_parser("timing", help="CPU milliseconds per pair")
    timing.add_argument("--verifier", type=Path, required=True)
    timing.add_argument("--data", type=Path, required=True, help="pairs to time on (val split)")
    timing.add_argument("--pairs", type=int, default=100)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.command == "train":
        if args.threads:
            torch.set_num_threads(args.threads)
        train_main(args)
    else:
        timing_main(args)


if __name__ == "__main__":
    main()
