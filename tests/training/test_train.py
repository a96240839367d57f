"""faq-train end to end on a slice of the cloud FAQ data: servable, manifest, metrics, plots."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

from faq_core.servable import MANIFEST_FILE, base_model_id, fingerprint
from faq_core.settings import Settings
from training.loop import TrainConfig
from training.train import TrainInputs, run_training

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclasses.dataclass
class Run:
    out: Path
    cache: Path
    cache_before: set[str]
    config: TrainConfig
    limit: int
    metrics: dict[str, Any]


@pytest.fixture(scope="module")
def run(
    tmp_path_factory: pytest.TempPathFactory,
    trained_servable_dir: Path,
    train_file: Path,
    val_file: Path,
) -> Run:
    """Repeat the session servable's training run (its settings read from its manifest) with a copy
    of its embedding cache: the same data and encoder must load every embedding from the cache.
    """
    reference = json.loads((trained_servable_dir / MANIFEST_FILE).read_text())
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig(**{k: v for k, v in reference["training"].items() if k in fields})
    limit = reference["metrics"]["train_pairs"]

    root = tmp_path_factory.mktemp("train_run")
    reference_cache = trained_servable_dir.parent / "cache"
    assert reference_cache.is_dir(), (
        "conftest's trained servable keeps its embedding cache beside it"
    )
    cache = root / "cache"
    shutil.copytree(reference_cache, cache)
    before = {p.name for p in cache.iterdir()}
    out = root / "servable"
    metrics = run_training(
        TrainInputs(train=train_file, val=val_file, limit=limit),
        out,
        Settings(device="cpu"),
        config,
        cache,
        progress=False,
    )
    return Run(out, cache, before, config, limit, metrics)


@pytest.mark.slow  # a second training run
def test_a_rerun_with_the_same_data_encodes_nothing(run: Run) -> None:
    # One .npy per text list (train/val questions/answers); a miss would have written a new one.
    assert len([n for n in run.cache_before if n.endswith(".npy")]) == 4
    assert {p.name for p in run.cache.iterdir()} == run.cache_before


def test_same_data_settings_and_seed_train_the_same_head(
    run: Run, trained_servable_dir: Path
) -> None:
    ours = torch.load(run.out / "head" / "weights.bin", map_location="cpu")
    reference = torch.load(trained_servable_dir / "head" / "weights.bin", map_location="cpu")
    assert ours.keys() == reference.keys()
    assert all(torch.equal(ours[k], reference[k]) for k in ours)


def test_same_data_settings_and_seed_give_the_same_model_id(
    run: Run, trained_servable_dir: Path
) -> None:
    # A run whose embeddings all came from the cache saves tokenizer files with other load-time
    # state than one that encoded; the vectors, and so the model id, are the same.
    assert fingerprint(run.out) == fingerprint(trained_servable_dir)


def test_writes_the_servable_metrics_and_plots(run: Run) -> None:
    assert (run.out / "config.json").is_file()
    assert (run.out / "head" / "weights.bin").is_file()
    for name in ("training_curves.png", "score_distribution.png"):
        data = (run.out / name).read_bytes()
        assert data.startswith(PNG_MAGIC), name
        assert len(data) > 1000, name
    assert [p.name for p in run.out.parent.iterdir() if p.name.startswith(".")] == []


def test_manifest_records_provenance(run: Run, train_file: Path, val_file: Path) -> None:
    manifest = json.loads((run.out / MANIFEST_FILE).read_text())
    assert manifest["base_model"]
    assert manifest["base_model_id"] == base_model_id(None)
    assert manifest["data_checksums"] == {"train": sha256(train_file), "val": sha256(val_file)}
    assert {k: manifest["training"][k] for k in run.config.as_dict()} == run.config.as_dict()
    assert manifest["training"]["method"]
    assert manifest["metrics"]["tuned"] == run.metrics["tuned"]
    assert manifest["threshold"] == run.metrics["threshold"]
    assert manifest["model_id"] == run.metrics["model_id"] == fingerprint(run.out)
    assert manifest["created_at"].endswith("Z")


def test_metrics_file_and_history(run: Run) -> None:
    saved = json.loads((run.out / "metrics.json").read_text())
    history = saved.pop("history")
    assert saved == json.loads(json.dumps(run.metrics))
    assert [h["epoch"] for h in history] == list(range(run.config.epochs + 1))
    assert saved["train_pairs"] == saved["val_pairs"] == run.limit
    best = history[saved["best_epoch"]]
    assert saved["tuned"] == {"pool": best["pool"], "ask": best["ask"]}
    assert saved["untuned"] == {"pool": history[0]["pool"], "ask": history[0]["ask"]}
    # the kept epoch is the best by pool MRR, and epoch 0 (untuned) is a candidate
    assert best["pool"]["mrr"] == max(h["pool"]["mrr"] for h in history)
    assert saved["tuned"]["pool"]["mrr"] >= saved["untuned"]["pool"]["mrr"]
    for record in history:
        for protocol in ("pool", "ask"):
            p1, mrr = record[protocol]["precision_at_1"], record[protocol]["mrr"]
            assert 0.0 < p1 <= mrr <= 1.0


def test_threshold_meets_its_target(run: Run) -> None:
    threshold = run.metrics["threshold"]
    assert threshold is not None
    assert threshold["target_precision"] == 0.9
    assert threshold["precision"] >= 0.9
    assert 0.0 < threshold["coverage"] <= 1.0
    assert -1.0 <= threshold["score"] <= 1.0
