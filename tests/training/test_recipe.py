"""Which recipe `auto` picks, and the GPU recipe's own path: every encoder layer learns."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from faq_core.servable import default_base_model
from tests.training.short_runs import train_briefly
from training.recipe import AUTO, RECIPES, SMALL_FAQ_ENTRIES, recipe_name


@pytest.mark.parametrize(
    ("name", "device", "entries", "expected"),
    [
        (AUTO, "cuda", None, "gpu"),
        (AUTO, "cpu", None, "default"),
        (AUTO, "cpu", SMALL_FAQ_ENTRIES, "default"),
        (AUTO, "cuda", SMALL_FAQ_ENTRIES, "gpu"),
        (AUTO, "cpu", SMALL_FAQ_ENTRIES - 1, "untrained"),  # too small to learn from
        (AUTO, "cuda", 40, "untrained"),
        ("head", "cuda", None, "head"),  # a named recipe is taken as named, whatever the device
        ("gpu", "cpu", None, "gpu"),
        ("default", "cpu", 40, "default"),  # ... and whatever the FAQ's size
    ],
)
def test_recipe_name(name: str, device: str, entries: int | None, expected: str) -> None:
    assert recipe_name(name, torch.device(device), entries) == expected


def test_only_the_untrained_recipe_learns_nothing() -> None:
    assert [name for name, recipe in RECIPES.items() if not recipe.learns] == ["untrained"]
    assert RECIPES["head"].with_head(epochs=0).learns is False


def _layer_weights(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k.split("encoder.layer.", 1)[1]: v for k, v in state.items() if "encoder.layer." in k}


def test_gpu_recipe_tunes_every_layer_and_keeps_the_embeddings(
    tmp_path: Path, train_file: Path, val_file: Path
) -> None:
    """Run on the CPU with one short epoch: the recipe's settings, not the device, are what is
    tested. All six layers must move; the token embeddings (the cached part) must not."""
    recipe = RECIPES["gpu"].with_encoder(epochs=1)
    assert recipe.encoder is not None and not recipe.encoder.length_buckets
    out, _ = train_briefly(recipe, tmp_path, train_file, val_file, limit=96)
    base = load_file(Path(default_base_model()) / "model.safetensors")
    (saved_file,) = out.glob("encoders/**/*.safetensors")
    saved = load_file(saved_file)
    base_layers, saved_layers = _layer_weights(base), _layer_weights(saved)
    moved = {
        name.split(".")[0]
        for name in base_layers
        if not torch.equal(base_layers[name], saved_layers[name])
    }
    assert moved == {str(i) for i in range(6)}
    (base_words,) = (v for k, v in base.items() if k.endswith("word_embeddings.weight"))
    (saved_words,) = (v for k, v in saved.items() if k.endswith("word_embeddings.weight"))
    assert torch.equal(base_words, saved_words)
