"""Phrasings and decisions outlive what operations do to a running service, on both backends (the
embedded store, and the Qdrant stand-in server): a SIGKILL right after the 201, a re-index, a
re-index with another servable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from faq_core.settings import Settings
from indexer.run import run_index
from tests.service.conftest import ServerProcess, StandIn, copy_store
from tests.support.backends import BACKENDS
from tests.support.waiting import eventually

FAQ_QUESTION = "what is amazon sagemaker canvas?"
ADDED = ["tell me about sagemaker canvas", "sagemaker canvas: no code ml?"]


@pytest.fixture(params=BACKENDS)
def env(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    trained_servable_dir: Path,
    indexed_store: Path,
    faq_slice: Path,
) -> Iterator[dict[str, str]]:
    link = tmp_path / "model"  # swapped for another servable by the model-change test
    link.symlink_to(trained_servable_dir)
    env = {
        "FAQ_MODEL_PATH": str(link),
        "FAQ_DEVICE": "cpu",
        "FAQ_JEMALLOC": "0",
        "FAQ_WATCH_INTERVAL_S": "0.3",
        "FAQ_CALIBRATION_INTERVAL_S": "0.3",
        "FAQ_CALIBRATION_MIN_REVIEWED": "3",
    }
    if request.param == "edge":
        env["FAQ_STORE_PATH"] = str(copy_store(indexed_store, tmp_path))
        yield env
        return
    standin = StandIn(tmp_path / "qdrant")
    standin.start()
    try:
        env["FAQ_QDRANT_URL"] = standin.url
        settings = Settings(model_path=trained_servable_dir, device="cpu", qdrant_url=standin.url)
        run_index(faq_slice, settings, progress=False)
        yield env
    finally:
        standin.stop()


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[ServerProcess]:
    process = ServerProcess(env)
    process.start()
    yield process
    if process.process is not None:
        process.stop()


def entry_of(client: httpx.Client, question: str) -> dict[str, Any]:
    first = client.post("/ask", json={"question": question}).json()["answers"][0]
    assert first["question"] == question
    entry: dict[str, Any] = client.get(f"/answers/{first['id']}").json()
    return entry


def test_phrasings_and_decisions_acknowledged_right_before_sigkill_survive(
    server: ServerProcess,
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        entry = entry_of(client, FAQ_QUESTION)
        added = [f"sagemaker canvas question number {i}" for i in range(8)]
        for question in added:
            body = {"questions": [question], "reviewed": "attached"}
            response = client.post(f"/answers/{entry['id']}/questions", json=body)
            assert response.status_code == 201, response.text
        unsure = "which servers can i get in the hetzner auction"
        client.post("/ask", json={"question": unsure, "min_confidence": 1.0})

        def suggested() -> dict[str, Any] | None:
            found = client.get("/suggestions").json()["suggestions"]
            return next((s for s in found if unsure in s["questions"]), None)

        suggestion = eventually(suggested)
        assert suggestion is not None
        rejected = client.post(f"/suggestions/{suggestion['id']}/reject")
        assert rejected.status_code == 200
    # No grace: the process dies the instant after the last acknowledgement.
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    server.start()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        questions = client.get(f"/answers/{entry['id']}").json()["questions"]
        assert questions[-len(added) :] == added
        for question in added[:3]:
            first = client.post("/ask", json={"question": question}).json()["answers"][0]
            assert (first["id"], first["matched_text"]) == (entry["id"], question)
        # The reviews came back: the calibration is fitted on all of them.
        fitted = eventually(
            lambda: (
                (c := client.get("/manifest").json()["calibration"])["fit"]
                and c["fit"]["reviewed"] >= len(added)
            )
        )
        assert fitted, client.get("/manifest").json()["calibration"]
        # The rejection came back: the question asked again is not proposed for that entry.
        client.post("/ask", json={"question": unsure, "min_confidence": 1.0})
        time.sleep(1)
        found = client.get("/suggestions").json()["suggestions"]
        assert all(
            not (s["entry_id"] == suggestion["entry_id"] and unsure in s["questions"])
            for s in found
        )


def run_indexer(env: dict[str, str], data: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "indexer", "--data", str(data), "--quiet"],
        env={**os.environ, **env},
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


def test_added_phrasings_outlive_a_re_index_and_a_model_change(
    server: ServerProcess, env: dict[str, str], faq_slice: Path, untrained_servable_dir: Path
) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        entry = entry_of(client, FAQ_QUESTION)
        response = client.post(f"/answers/{entry['id']}/questions", json={"questions": ADDED})
        assert response.status_code == 201
        version = client.get("/manifest").json()["index"]["version"]

        def serving_another_version() -> bool:
            return bool(client.get("/manifest").json()["index"]["version"] != version)

        run_indexer(env, faq_slice)
        assert eventually(serving_another_version)
        assert client.get(f"/answers/{entry['id']}").json()["questions"][1:] == ADDED
        first = client.post("/ask", json={"question": ADDED[1]}).json()["answers"][0]
        assert (first["id"], first["matched"]) == (entry["id"], "alternate")

        # Another servable: the phrasings are encoded again by it.
        link = Path(env["FAQ_MODEL_PATH"])
        staged = link.with_name("model.next")
        staged.symlink_to(untrained_servable_dir)
        os.replace(staged, link)
        model_id = client.get("/manifest").json()["model_id"]
        version = client.get("/manifest").json()["index"]["version"]
        run_indexer(env, faq_slice)
        assert eventually(lambda: client.get("/manifest").json()["model_id"] != model_id)
        assert client.get(f"/answers/{entry['id']}").json()["questions"][1:] == ADDED
        first = client.post("/ask", json={"question": ADDED[1]}).json()["answers"][0]
        assert (first["id"], first["matched_text"]) == (entry["id"], ADDED[1])
        assert first["score"] == pytest.approx(1.0, abs=1e-3)
