"""A short training run of a recipe on the CPU, as the recipe tests make it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faq_core.settings import Settings
from training.recipe import Recipe
from training.train import TrainInputs, run_training


def train_briefly(
    recipe: Recipe, tmp_path: Path, train_file: Path, val_file: Path, limit: int
) -> tuple[Path, dict[str, Any]]:
    """Train `recipe` on the first `limit` pairs of each file; the servable's directory and the
    metrics."""
    out = tmp_path / "servable"
    metrics = run_training(
        TrainInputs(train=train_file, val=val_file, limit=limit),
        out,
        Settings(device="cpu"),
        recipe.head,
        tmp_path / "cache",
        encoder=recipe.encoder,
        progress=False,
    )
    return out, metrics
