"""The servable: save and load, fingerprint, trusted classes only, and encoding."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from faq_core.answer_encoding import AnswerEncoding
from faq_core.errors import ServableError
from faq_core.servable import (
    MANIFEST_FILE,
    Servable,
    fingerprint,
    load_servable,
    resolve_device,
    save_servable,
)

CONTEXT = ("source", "filename")
TEXTS = [
    "how do i reset my password?",
    "can i move an instance to another region",
    "what is the sla for object storage",
]


def linked_copy(src: Path, dst: Path) -> Path:
    """A copy of a servable whose files are hard links: cheap; replace files, never edit them."""
    shutil.copytree(src, dst, copy_function=os.link)
    return dst


def replace_file(path: Path, data: bytes) -> None:
    path.unlink()  # break the hard link before writing
    path.write_bytes(data)


@pytest.fixture(scope="module")
def saved_dir(servable: Servable, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's trained model, saved again by save_servable."""
    out = tmp_path_factory.mktemp("roundtrip") / "servable"
    save_servable(servable.model, out, {"note": "round trip"})
    return out


# ---- save and load ------------------------------------------------------------------------------


def test_round_trip_gives_the_same_embeddings_and_model_id(
    servable: Servable, saved_dir: Path
) -> None:
    loaded = load_servable(saved_dir, "cpu")
    manifest = json.loads((saved_dir / MANIFEST_FILE).read_text())
    assert loaded.model_id == manifest["model_id"] == fingerprint(saved_dir)
    assert loaded.manifest["note"] == "round trip"
    assert np.allclose(loaded.encode(TEXTS), servable.encode(TEXTS), atol=1e-6)


@pytest.mark.parametrize("quantize", ["none", "int8"])
def test_traced_encoder_matches_the_eager_one_on_other_shapes(
    saved_dir: Path, quantize: str
) -> None:
    """The graph is traced on one small batch; the service sends batches of any size and length."""
    eager = load_servable(saved_dir, "cpu", quantize)
    traced = load_servable(saved_dir, "cpu", quantize, trace=True)
    long_text = " ".join(TEXTS * 12)  # past any length seen while tracing
    batches = [TEXTS[:1], TEXTS, [*TEXTS, long_text] * 6]
    for texts in batches:
        # The same batches both ways: int8 scales its activations per batch.
        expected = eager.encode(texts, batch_size=16)
        assert np.allclose(traced.encode(texts, batch_size=16), expected, atol=1e-5)
    assert traced.model_id == eager.model_id


def test_saving_a_model_twice_gives_the_same_model_id(saved_dir: Path, tmp_path: Path) -> None:
    loaded = load_servable(saved_dir, "cpu")
    again = save_servable(loaded.model, tmp_path / "again", {"note": "second save"})
    assert again == loaded.model_id


def test_resaving_a_trained_servable_keeps_its_model_id(
    servable: Servable, saved_dir: Path
) -> None:
    assert load_servable(saved_dir, "cpu").model_id == servable.model_id


def test_trained_servable_manifest_names_its_own_fingerprint(
    trained_servable_dir: Path, servable: Servable
) -> None:
    manifest = json.loads((trained_servable_dir / MANIFEST_FILE).read_text())
    assert servable.model_id == manifest["model_id"] == fingerprint(trained_servable_dir)
    assert servable.score_threshold == (manifest["threshold"] or {}).get("score")


def test_save_replaces_an_existing_servable_whole(servable: Servable, tmp_path: Path) -> None:
    out = tmp_path / "servable"
    out.mkdir()
    (out / "stale.txt").write_text("from an older model")
    model_id = save_servable(servable.model, out, {"run": 2})
    assert not (out / "stale.txt").exists()
    assert json.loads((out / MANIFEST_FILE).read_text()) == {"run": 2, "model_id": model_id}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "servable"]
    assert leftovers == []


# ---- fingerprint --------------------------------------------------------------------------------


def test_fingerprint_ignores_files_beside_the_model(saved_dir: Path, tmp_path: Path) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    before = fingerprint(copy)
    replace_file(copy / MANIFEST_FILE, json.dumps({"model_id": "edited", "extra": 1}).encode())
    (copy / "metrics.json").write_text(json.dumps({"tuned": {"pool": {"mrr": 0.9}}}))
    (copy / "training_curves.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert fingerprint(copy) == before == fingerprint(saved_dir)


def test_fingerprint_names_how_answers_are_encoded(saved_dir: Path, tmp_path: Path) -> None:
    """Same weights, another answer encoding: another collection, so another id; the answer
    alone keeps the id of the weights (collections built before encodings existed)."""
    copy = linked_copy(saved_dir, tmp_path / "servable")
    ids = {}
    for encoding in (AnswerEncoding(), AnswerEncoding(CONTEXT), AnswerEncoding(CONTEXT, 0.3)):
        replace_file(copy / MANIFEST_FILE, json.dumps(encoding.record()).encode())
        ids[encoding] = fingerprint(copy)
        assert fingerprint(saved_dir, encoding) == ids[encoding]
    assert ids[AnswerEncoding()] == fingerprint(saved_dir)
    assert len(set(ids.values())) == 3
    assert load_servable(copy, "cpu").model_id == ids[AnswerEncoding(CONTEXT, 0.3)]


def test_fingerprint_changes_when_head_weights_change(saved_dir: Path, tmp_path: Path) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    weights = copy / "head" / "weights.bin"
    state = torch.load(weights, map_location="cpu")
    generator = torch.Generator().manual_seed(0)
    for name, value in state.items():
        if value.is_floating_point():
            state[name] = value + 0.05 * torch.randn(value.shape, generator=generator)
    weights.unlink()
    torch.save(state, weights)
    assert fingerprint(copy) != fingerprint(saved_dir)
    # and the loaded servable reports the new id and encodes differently
    changed = load_servable(copy, "cpu")
    original = load_servable(saved_dir, "cpu")
    assert changed.model_id == fingerprint(copy) != original.model_id
    assert not np.allclose(changed.encode(TEXTS), original.encode(TEXTS), atol=1e-4)


# ---- refusing what we do not trust --------------------------------------------------------------


def _config(path: Path) -> dict:
    return json.loads((path / "config.json").read_text())


@pytest.mark.parametrize(
    ("module", "cls"),
    [("os", "system"), ("subprocess", "Popen"), ("quaterion_models_evil.heads.x", "Head")],
)
def test_untrusted_head_class_is_refused(
    saved_dir: Path, tmp_path: Path, module: str, cls: str
) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    config = _config(copy)
    config["head"] = {"module": module, "class": cls}
    replace_file(copy / "config.json", json.dumps(config).encode())
    expected = f"{copy / 'config.json'} names an untrusted head class"
    with pytest.raises(ServableError, match=re.escape(expected) + f".*{module}"):
        load_servable(copy, "cpu")


@pytest.mark.parametrize(
    ("module", "cls"),
    [("os", "system"), ("subprocess", "Popen"), ("faq_core.encoder", "SentenceTransformer")],
)
def test_untrusted_encoder_class_is_refused(
    saved_dir: Path, tmp_path: Path, module: str, cls: str
) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    config = _config(copy)
    config["encoders"][0].update(module=module, **{"class": cls})
    replace_file(copy / "config.json", json.dumps(config).encode())
    expected = f"{copy / 'config.json'} names an untrusted encoder class"
    with pytest.raises(ServableError, match=re.escape(expected) + f".*{cls}"):
        load_servable(copy, "cpu")


def test_config_that_is_not_json_is_refused(saved_dir: Path, tmp_path: Path) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    replace_file(copy / "config.json", b"{not json")
    expected = f"{copy / 'config.json'} is not a quaterion-models config"
    with pytest.raises(ServableError, match=re.escape(expected)):
        load_servable(copy, "cpu")


@pytest.mark.parametrize(
    "edit",
    [
        {"head": "quaterion_models.heads.SkipConnectionHead"},
        {"encoders": ["faq_core.encoder.SentenceEncoder"]},
    ],
    ids=["head-string", "encoder-string"],
)
def test_malformed_config_shapes_are_servable_errors(
    saved_dir: Path, tmp_path: Path, edit: dict
) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    replace_file(copy / "config.json", json.dumps({**_config(copy), **edit}).encode())
    with pytest.raises(ServableError, match=re.escape(f"{copy / 'config.json'}")):
        load_servable(copy, "cpu")


def test_missing_servable_directory_says_what_to_do(tmp_path: Path) -> None:
    missing = tmp_path / "no-model-here"
    expected = f"{missing} is not a servable: config.json is missing (train one first)"
    with pytest.raises(ServableError, match=re.escape(expected)):
        load_servable(missing, "cpu")


def test_missing_head_weights_are_a_servable_error(saved_dir: Path, tmp_path: Path) -> None:
    copy = linked_copy(saved_dir, tmp_path / "servable")
    (copy / "head" / "weights.bin").unlink()
    with pytest.raises(ServableError, match=re.escape(f"cannot load servable {copy}")):
        load_servable(copy, "cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_refused() -> None:
    with pytest.raises(ServableError, match=r"FAQ_DEVICE=cuda but no CUDA device is available"):
        resolve_device("cuda")


def test_auto_device_is_cuda_only_when_present() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


# ---- the service needs no training code ---------------------------------------------------------

_LOAD_WITHOUT_TRAINING = textwrap.dedent(
    """
    import json, sys

    BLOCKED = ("training", "indexer", "matplotlib")

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked in this process")
            return None

    sys.meta_path.insert(0, Block())
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    sys.modules["training"] = None
    try:
        import training  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("training is still importable")

    from faq_core.servable import load_servable

    servable = load_servable(sys.argv[1], "cpu")
    vectors = servable.encode(json.loads(sys.argv[2]))
    loaded = sorted(
        {m.split(".")[0] for m, mod in sys.modules.items() if mod is not None}.intersection(BLOCKED)
    )
    result = {"model_id": servable.model_id, "vectors": vectors.tolist(), "loaded": loaded}
    print(json.dumps(result))
    """
)


def test_servable_loads_in_a_process_that_cannot_import_training(
    trained_servable_dir: Path, servable: Servable
) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _LOAD_WITHOUT_TRAINING,
            str(trained_servable_dir),
            json.dumps(TEXTS),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=trained_servable_dir,  # not the repo root: no import by accident from the cwd
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["model_id"] == servable.model_id
    assert np.allclose(np.array(result["vectors"]), servable.encode(TEXTS), atol=1e-5)


# ---- encode -------------------------------------------------------------------------------------


def test_encode_returns_unit_rows_in_input_order(servable: Servable) -> None:
    long_text = " ".join(["the instance keeps its elastic ip address after a stop and start"] * 40)
    texts = [
        long_text,
        "ok?",
        "how are snapshots of block storage volumes billed",
        "a",
        long_text[:300],
        "what regions support dedicated hosts and how do i request more of them",
    ]
    together = servable.encode(texts, batch_size=2)
    alone = np.stack([servable.encode([t])[0] for t in texts])
    assert together.shape == (len(texts), servable.dim)
    assert together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert np.allclose(together, alone, atol=1e-4)
    # different texts, different rows: the order really is the input's
    sims = together @ together.T
    assert all(int(np.argmax(sims[i])) == i for i in range(len(texts)))


def test_encode_nothing_gives_an_empty_matrix(servable: Servable) -> None:
    empty = servable.encode([])
    assert empty.shape == (0, servable.dim)
    assert empty.dtype == np.float32


def test_a_servable_encodes_in_eval_mode_even_after_its_model_was_trained(
    trained_servable_dir: Path,
) -> None:
    loaded = load_servable(trained_servable_dir)
    reference = loaded.encode(TEXTS)
    model = loaded.model
    model.train()  # dropout on: left this way, two encodings of the same texts would differ
    rebuilt = Servable(model=model, device=loaded.device, model_id=loaded.model_id)
    assert not model.training
    model.train()
    assert np.allclose(rebuilt.encode(TEXTS), reference, atol=1e-6)
    assert not any(module.training for module in model.modules())
