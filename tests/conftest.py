"""Shared fixtures: the real small model, real data from ../shared, real stores.

The base model loads once per session; a briefly trained servable is made once per session by
the real `faq-train` code path. Tests that change a store get their own directory.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from faq_core.answer_encoding import AnswerEncoding
from faq_core.entries import FaqEntry
from faq_core.servable import (
    MANIFEST_FILE,
    Servable,
    build_model,
    load_servable,
    save_servable,
)
from faq_core.settings import Settings
from faq_core.store import AnswerStore, CollectionLayout, open_backend
from training.loop import TrainConfig
from training.train import TrainInputs, run_training

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The suite's comparisons are exact to float32 and must not depend on the machine, while the
# default, FAQ_QUANTIZE=auto, runs bfloat16 on some CPUs: tests of auto ask for it themselves.
os.environ.setdefault("FAQ_QUANTIZE", "none")

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"
DATA_DIR = REPO.parent / "shared" / "data" / "cloud_faq"
TRAIN_FILE = DATA_DIR / "train.jsonl"
VAL_FILE = DATA_DIR / "val.jsonl"
# Enough pairs to learn something and keep the suite quick on two cores.
TRAIN_SLICE = 400


# Modules slow by nature, whole: `pytest -m "not slow"` leaves them out of the daily loop, and CI
# runs everything. A single slow test in a module otherwise quick carries @pytest.mark.slow.
SLOW_MODULES = {
    "service/test_reindex.py": "faq-serve and faq-index processes, killed and restarted",
    "service/test_server.py": "faq-serve processes",
    "service/test_store_faults.py": "faq-serve processes beside a Qdrant stand-in that fails",
    "service/test_footprint.py": "faq-serve processes",
    "service/test_openmp_pools.py": "a process loading the servable",
    "service/test_fuzz.py": "fuzzing every endpoint",
    "service/test_unanswered_api.py": "faq-serve processes on both backends, killed and restarted",
    "service/test_disk_full.py": "a faq-serve process on a tmpfs it fills",
    "service/test_empty_start.py": "faq-serve processes on both backends",
    "service/test_phrasings_durability.py": "faq-serve and faq-index processes, both backends",
    "backup/test_faq_store.py": "faq-store and faq-serve processes on both backends, killed",
    "training/test_feedback_loop.py": "training runs",
    "training/test_recipe.py": "training runs",
    "training/test_weight_mixing.py": "training runs",
    "training/test_forgetting.py": "the forgetting check, on the val file",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.relative_to(TESTS).as_posix() in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def train_file() -> Path:
    if not TRAIN_FILE.is_file():
        pytest.fail(f"the cloud FAQ data is expected at {DATA_DIR} (../shared beside the repo)")
    return TRAIN_FILE


@pytest.fixture(scope="session")
def val_file() -> Path:
    return VAL_FILE


@pytest.fixture(scope="session")
def untrained_servable_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base encoder + a fresh skip-connection head, saved as a servable."""
    out = tmp_path_factory.mktemp("untrained") / "servable"
    save_servable(build_model(None), out, {"note": "untrained, for tests"})
    return out


@pytest.fixture(scope="session")
def trained_servable_dir(
    tmp_path_factory: pytest.TempPathFactory, train_file: Path, val_file: Path
) -> Path:
    """A servable from a short real training run on a slice of the cloud FAQ train file."""
    root = tmp_path_factory.mktemp("trained")
    out = root / "servable"
    run_training(
        TrainInputs(train=train_file, val=val_file, limit=TRAIN_SLICE),
        out,
        Settings(device="cpu"),
        TrainConfig(epochs=5, batch_size=64),
        root / "cache",
        progress=False,
    )
    return out


ANSWER_CONTEXT = ("source", "filename")
# The answer in context alone, and mixed into the plain answer's embedding (faq-train's default).
ANSWER_ENCODINGS = [AnswerEncoding(ANSWER_CONTEXT, 1.0), AnswerEncoding(ANSWER_CONTEXT, 0.3)]


@pytest.fixture(scope="session", params=ANSWER_ENCODINGS, ids=["in-context", "mixed"])
def contextual_servable_dir(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    trained_servable_dir: Path,
) -> Path:
    """The trained servable, its manifest saying it encodes answers with one of
    ANSWER_ENCODINGS (as faq-train records it): same weights, another model id."""
    out = tmp_path_factory.mktemp("contextual") / "servable"
    shutil.copytree(trained_servable_dir, out)
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    (out / MANIFEST_FILE).write_text(json.dumps({**manifest, **request.param.record()}))
    return out


def expected_answer_vector(servable: Servable, entry: FaqEntry) -> np.ndarray:
    """What `servable` should store for the entry's answer, worked out apart from the code
    under test: the mix of its plain and contextual embeddings, at the recorded weight."""
    encoding = servable.answer_encoding
    plain, contextual = servable.encode([entry.answer, entry.answer_text(encoding.context)])
    mixed = (1 - encoding.weight) * plain + encoding.weight * contextual
    return np.asarray(mixed / np.linalg.norm(mixed))


@pytest.fixture(scope="session")
def servable(trained_servable_dir: Path) -> Servable:
    return load_servable(trained_servable_dir, "cpu")


@pytest.fixture
def settings(tmp_path: Path, trained_servable_dir: Path) -> Settings:
    """Embedded store in a fresh directory, the trained servable, CPU."""
    return Settings(model_path=trained_servable_dir, store_path=tmp_path / "store", device="cpu")


def open_live_store(settings: Settings, servable: Servable) -> AnswerStore:
    """The live version of the embedded store, as the service opens it."""
    catalog = open_backend(settings).catalog
    _, store = catalog.open_live(CollectionLayout(servable.dim, servable.model_id))
    return store
