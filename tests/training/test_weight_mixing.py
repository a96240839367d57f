"""Averaging tuned weights with the base model's, and the default recipe that uses it (no head)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

from faq_core.servable import MANIFEST_FILE, load_servable
from tests.training.short_runs import train_briefly
from training.recipe import RECIPES
from training.weight_mixing import mix_with_base


def test_mixing_interpolates_every_floating_weight() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    base = copy.deepcopy(module.state_dict())
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    tuned = copy.deepcopy(module.state_dict())
    mix_with_base(module, base, 0.3)
    for name, value in module.state_dict().items():
        assert torch.allclose(value, 0.7 * tuned[name] + 0.3 * base[name])


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_mixing_ends(share: float) -> None:
    module = torch.nn.Linear(2, 2)
    base = {k: torch.zeros_like(v) for k, v in module.state_dict().items()}
    tuned = copy.deepcopy(module.state_dict())
    mix_with_base(module, base, share)
    expected = tuned if share == 0.0 else base
    assert all(torch.equal(v, expected[k]) for k, v in module.state_dict().items())


def test_mixing_refuses_a_share_outside_0_1() -> None:
    module = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"base_share must be in \[0, 1\], got 1\.5"):
        mix_with_base(module, module.state_dict(), 1.5)


def test_default_recipe_mixes_and_saves_no_head(
    tmp_path: Path, train_file: Path, val_file: Path
) -> None:
    default = RECIPES["default"]
    assert default.encoder is not None and default.encoder.base_share > 0
    assert default.head.epochs == 0
    recipe = default.with_encoder(trainable_layers=1, epochs=1)
    assert recipe.encoder is not None
    out, metrics = train_briefly(recipe, tmp_path, train_file, val_file, limit=64)
    config = json.loads((out / "config.json").read_text())
    assert config["head"]["class"] == "EmptyHead"
    assert not (out / "training_curves.png").exists()  # no head was trained
    assert (out / "encoder_curves.png").is_file() and (out / "score_distribution.png").is_file()
    encoder = metrics["encoder"]
    assert encoder["base_share"] == recipe.encoder.base_share
    # with no head, the servable's figures are the averaged encoder's
    assert metrics["tuned"] == encoder["after_averaging_with_base"]
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert "averaged with 30% of the untuned weights" in manifest["training"]["method"]
    servable = load_servable(out, "cpu")
    assert servable.dim == 384
