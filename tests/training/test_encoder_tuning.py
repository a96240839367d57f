"""Tuning the encoder's upper layers over cached lower-layer outputs: the split, the cache of
lower-layer outputs, the batches, the loop and the servable it leads to."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from faq_core.answer_encoding import AnswerEncoding
from faq_core.servable import MANIFEST_FILE, default_base_model, load_servable
from faq_core.settings import Settings
from training.data import load_pair_entries, load_pairs
from training.encoder_loop import (
    EncoderConfig,
    bucketed_batches,
    embed_states,
    train_upper_layers,
)
from training.evaluate import evaluate_entries
from training.layer_cache import LayerCache, compute_states
from training.loop import TrainConfig
from training.metrics import pool_retrieval
from training.recipe import RECIPES
from training.split_encoder import SplitEncoder
from training.train import (
    DEFAULT_ANSWER_ENCODING,
    PAGE_CONTEXT,
    TrainInputs,
    is_current,
    run_training,
)

TEXTS = [
    "how do i stop an instance?",
    "what is a bucket policy",
    "can i resize a disk while it runs and keep all of the data that is stored on it today?",
    "yes",
]


@pytest.fixture
def transformer() -> SentenceTransformer:
    """A fresh copy for each test: tuning changes its weights."""
    return SentenceTransformer(default_base_model(), device="cpu")


@pytest.mark.parametrize("trainable", [0, 2, 6])
def test_lower_then_upper_is_the_whole_model(transformer, trainable: int) -> None:
    reference = transformer.encode(TEXTS, convert_to_tensor=True)
    encoder = SplitEncoder(transformer, trainable)
    states = compute_states(encoder, TEXTS, batch_size=3)
    assert states.lengths().tolist() == [
        int(n) for n in encoder.tokenize(TEXTS)["attention_mask"].sum(dim=1)
    ]
    embeddings = embed_states(encoder, states)
    # the cache keeps float16: close to, not bit-equal with, the float32 model
    assert torch.allclose(embeddings, reference, atol=5e-4)


def test_only_the_upper_layers_learn(transformer) -> None:
    encoder = SplitEncoder(transformer, 2)
    params = encoder.trainable_parameters()
    trainable = {id(p) for p in transformer.parameters() if p.requires_grad}
    assert trainable == {id(p) for p in params}
    assert trainable == {id(p) for layer in encoder.upper_layers for p in layer.parameters()}
    with pytest.raises(ValueError, match=r"trainable_layers must be in 0\.\.6, got 7"):
        SplitEncoder(transformer, 7)


def test_layer_cache_computes_once(transformer, tmp_path: Path) -> None:
    encoder = SplitEncoder(transformer, 2)
    first = LayerCache(tmp_path, encoder, "model-a")
    states = first.states(TEXTS, "texts")
    assert (first.hits, first.misses) == (0, 1)
    again = LayerCache(tmp_path, encoder, "model-a")
    cached = again.states(TEXTS, "texts")
    assert (again.hits, again.misses) == (1, 0)
    assert torch.equal(cached.states, states.states)
    assert np.array_equal(cached.offsets, states.offsets)
    # another model, split or text list is another file
    LayerCache(tmp_path, encoder, "model-b").states(TEXTS, "texts")
    LayerCache(tmp_path, SplitEncoder(transformer, 1), "model-a").states(TEXTS, "texts")
    LayerCache(tmp_path, encoder, "model-a").states(TEXTS[:2], "texts")
    assert len(list(tmp_path.glob("*.npz"))) == 4


def test_padded_batches_mask_what_they_pad(transformer) -> None:
    states = compute_states(SplitEncoder(transformer, 1), TEXTS)
    hidden, mask = states.batch([3, 2])
    lengths = states.lengths()
    assert hidden.shape[:2] == mask.shape == (2, lengths[2])
    assert mask.sum(dim=1).tolist() == [lengths[3], lengths[2]]
    assert hidden.dtype == torch.float32
    assert torch.all(hidden[0, lengths[3] :] == 0)


@pytest.mark.parametrize("bucketed", [True, False])
def test_batches_cover_every_pair_once(bucketed: bool) -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 80, size=1000)
    batches = bucketed_batches(lengths, 64, rng, bucketed)
    assert sorted(np.concatenate(batches).tolist()) == list(range(1000))
    assert all(2 <= len(b) <= 64 for b in batches)
    if bucketed:  # neighbours in length travel together: less padding
        waste = sum(int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in batches)
        shuffled = bucketed_batches(lengths, 64, np.random.default_rng(0), False)
        waste_shuffled = sum(
            int(lengths[b].max()) * len(b) - int(lengths[b].sum()) for b in shuffled
        )
        assert waste < waste_shuffled / 2


@pytest.mark.slow  # a tuning run
def test_tuning_keeps_the_best_epoch(transformer, train_file: Path, val_file: Path) -> None:
    train, val = load_pairs(train_file, 96), load_pairs(val_file, 48)
    encoder = SplitEncoder(transformer, 1)
    train_states = (
        compute_states(encoder, train.questions),
        compute_states(encoder, train.answers),
    )
    val_states = (compute_states(encoder, val.questions), compute_states(encoder, val.answers))
    config = EncoderConfig(trainable_layers=1, epochs=2, batch_size=32)
    result = train_upper_layers(encoder, train_states, val_states, config, progress=False)
    assert [r.epoch for r in result.history] == [0, 1, 2]
    best = max(result.history, key=lambda r: r.pool["mrr"])
    assert result.best.pool["mrr"] == best.pool["mrr"]
    # the encoder holds the kept epoch's weights
    kept = pool_retrieval(
        embed_states(encoder, val_states[0]), embed_states(encoder, val_states[1])
    )
    assert kept.as_dict() == result.best.pool


@pytest.mark.slow  # a tuning run
def test_default_recipe_writes_a_servable_that_loads_with_the_core_alone(
    tmp_path: Path, train_file: Path, val_file: Path
) -> None:
    """A short run of the default method with faq-train's default answer encoding (the context
    mixed in): the servable loads with faq_core, gives the metrics training reported for it as
    served, and its manifest records the encoder settings and that encoding."""
    recipe = RECIPES["default"].with_encoder(epochs=1, trainable_layers=1).with_head(epochs=2)
    assert recipe.encoder is not None
    inputs = TrainInputs(
        train=train_file, val=val_file, limit=64, answer_encoding=DEFAULT_ANSWER_ENCODING
    )
    settings = Settings(device="cpu")
    out = tmp_path / "servable"
    metrics = run_training(
        inputs,
        out,
        settings,
        recipe.head,
        tmp_path / "cache",
        encoder=recipe.encoder,
        progress=False,
    )
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert manifest["training"] == recipe.record()
    assert manifest["training"]["encoder"]["trainable_layers"] == 1
    assert manifest["answer_context"] == list(PAGE_CONTEXT)
    assert manifest["answer_context_weight"] == DEFAULT_ANSWER_ENCODING.weight < 1
    assert is_current(out, inputs, recipe.head, settings, recipe.encoder)
    assert not is_current(out, inputs, recipe.head, settings, None)
    for other in (AnswerEncoding(), AnswerEncoding(PAGE_CONTEXT, 1.0)):
        changed = replace(inputs, answer_encoding=other)
        assert not is_current(out, changed, recipe.head, settings, recipe.encoder)
    assert (out / "encoder_curves.png").is_file()
    saved = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in saved["encoder_history"]] == [0, 1]

    servable = load_servable(out, "cpu")
    assert servable.answer_encoding == DEFAULT_ANSWER_ENCODING
    measured = evaluate_entries(servable, load_pair_entries(val_file, 64))
    for protocol in ("pool", "ask"):
        for key, value in metrics["tuned"][protocol].items():
            assert measured[protocol][key] == pytest.approx(value, abs=1e-3)
    assert metrics["tuned_answers_as_trained"] != metrics["tuned"]


def test_recipes_record_head_settings_at_the_top_level() -> None:
    head_only = RECIPES["head"]
    assert head_only.encoder is None
    assert head_only.record() == {"method": head_only.method, **TrainConfig().as_dict()}
    default = RECIPES["default"]
    assert default.encoder is not None and default.encoder.trainable_layers > 0
    assert "encoder" in default.record()
    assert default.with_encoder(trainable_layers=0).encoder is None
