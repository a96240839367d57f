"""Operations while serving, for real: faq-index runs as its own process beside a running
faq-serve, is killed half-way, switches data and servables; the service is killed with SIGKILL
right after acknowledging writes. Nothing acknowledged may be lost, and no question may fail."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faq_core.servable import fingerprint
from faq_core.store.edge import EdgeCatalog
from tests.service.conftest import INDEXED_LINES, ServerProcess, copy_store

QUESTION = "how do i turn off billing for a project?"


def run_indexer(env: dict[str, str], data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "indexer", "--data", str(data), "--quiet"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_for_version(server: ServerProcess, version: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        manifest = httpx.get(f"{server.url}/manifest", timeout=10).json()
        if manifest["index"]["version"] == version:
            return manifest
        time.sleep(0.2)
    raise AssertionError(f"the service did not follow the switch to {version}")


class Asker(threading.Thread):
    """Asks the same question over and over while operations run, counting statuses."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.statuses: Counter[int | str] = Counter()
        self._done = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not self._done.is_set():
                try:
                    self.statuses[client.post("/ask", json={"question": QUESTION}).status_code] += 1
                except httpx.HTTPError as exc:
                    self.statuses[type(exc).__name__] += 1

    def finish(self) -> Counter[int | str]:
        self._done.set()
        self.join()
        return self.statuses


def post_entry(server: ServerProcess, answer: str) -> str:
    response = httpx.post(
        f"{server.url}/answers", json={"entries": [{"answer": answer, "source": "ops"}]}, timeout=30
    )
    assert response.status_code == 201, response.text
    (entry_id,) = response.json()["ids"]
    return entry_id


@pytest.fixture
def env(indexed_store: Path, tmp_path: Path, trained_servable_dir: Path) -> dict[str, str]:
    # The model path is a link, as an operator swaps servables: point it elsewhere, re-index.
    link = tmp_path / "model"
    link.symlink_to(trained_servable_dir)
    return {
        "FAQ_MODEL_PATH": str(link),
        "FAQ_STORE_PATH": str(copy_store(indexed_store, tmp_path)),
        "FAQ_DEVICE": "cpu",
        "FAQ_WATCH_INTERVAL_S": "0.5",
    }


@pytest.fixture
def server(env: dict[str, str]) -> Iterator[ServerProcess]:
    process = ServerProcess(env)
    process.start()
    yield process
    if process.process is not None:
        process.stop()


def test_re_index_while_serving_switches_atomically_and_loses_nothing(
    server: ServerProcess, env: dict[str, str], val_file: Path, train_file: Path, tmp_path: Path
) -> None:
    catalog = EdgeCatalog(Path(env["FAQ_STORE_PATH"]), "faq")
    live_before = catalog.live()
    before_id = post_entry(server, "the status page lists every incident of the last 90 days.")
    asker = Asker(server.url)
    asker.start()

    # 1. An indexer killed half-way through leaves the live version as it was.
    with train_file.open() as handle:
        big = tmp_path / "big.jsonl"
        big.write_text("".join(next(handle) for _ in range(3000)))
    killed = run_indexer(env, big)
    deadline = time.monotonic() + 120
    while len(catalog.versions()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # well into encoding
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=30) == -signal.SIGKILL
    assert catalog.live() == live_before
    assert httpx.get(f"{server.url}/manifest").json()["index"]["version"] == live_before

    # 2. A complete re-index with other data: the last 20 rows of the slice leave, 20 new come.
    with val_file.open() as handle:
        rows = [next(handle) for _ in range(INDEXED_LINES + 20)]
    data = tmp_path / "faq-v2.jsonl"
    data.write_text("".join(rows[:100] + rows[INDEXED_LINES:]))
    indexer = run_indexer(env, data)
    during_id = post_entry(server, "refunds reach your card within five working days.")
    out, err = indexer.communicate(timeout=300)
    assert indexer.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out)
    assert summary["previous_version"] == live_before
    assert summary["points_after"] == 120
    # The half-built version of the killed run was dropped; the previous one is kept.
    assert live_before in summary["dropped_versions"] or len(summary["dropped_versions"]) == 1
    wait_for_version(server, summary["version"])
    after_id = post_entry(server, "invoices are emailed on the first day of each month.")
    statuses = asker.finish()

    assert set(statuses) == {200}, statuses
    assert statuses[200] > 10
    for entry_id in (before_id, during_id, after_id):
        assert httpx.get(f"{server.url}/answers/{entry_id}").status_code == 200, entry_id
    new_row = json.loads(rows[INDEXED_LINES + 3])
    found = httpx.post(f"{server.url}/ask", json={"question": new_row["question"]}).json()
    assert found["answers"][0]["answer"] == new_row["answer"]
    gone_row = json.loads(rows[110])
    found = httpx.post(f"{server.url}/ask", json={"question": gone_row["question"]}).json()
    assert gone_row["answer"] not in [a["answer"] for a in found["answers"]]


def test_re_index_with_another_servable_is_followed_with_that_servable(
    server: ServerProcess, env: dict[str, str], untrained_servable_dir: Path, faq_slice: Path
) -> None:
    runtime_id = post_entry(server, "the data centre in frankfurt is certified to iso 27001.")
    link = Path(env["FAQ_MODEL_PATH"])
    staged = link.with_name("model.next")
    staged.symlink_to(untrained_servable_dir)
    os.replace(staged, link)  # the operator points the service's model path at the new servable

    indexer = run_indexer(env, faq_slice)
    out, err = indexer.communicate(timeout=300)
    assert indexer.returncode == 0, err.decode()[-2000:]
    summary = json.loads(out)
    assert summary["model_id"] == fingerprint(untrained_servable_dir)
    assert summary["encoded"] == INDEXED_LINES  # every entry again: the live one was in use

    manifest = wait_for_version(server, summary["version"])
    assert manifest["model_id"] == fingerprint(untrained_servable_dir)
    # The runtime entry was encoded again by the new servable, and it finds it.
    found = httpx.post(
        f"{server.url}/ask", json={"question": "which certification has frankfurt?", "top_k": 3}
    ).json()
    assert runtime_id in [a["id"] for a in found["answers"]]


def test_entries_acknowledged_right_before_sigkill_survive(
    server: ServerProcess, env: dict[str, str]
) -> None:
    ids = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(25):
            response = client.post(
                "/answers",
                json={"entries": [{"answer": f"ticket {i}: the printer on floor {i} is fixed."}]},
            )
            assert response.status_code == 201, response.text
            ids += response.json()["ids"]
    # No grace: the process dies the instant after the last acknowledgement.
    assert server.stop(signal.SIGKILL) == -signal.SIGKILL
    server.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        got = {i: client.get(f"/answers/{i}") for i in ids}
        missing = [(i, r.status_code, r.text[:200]) for i, r in got.items() if r.status_code != 200]
    assert missing == [], f"{len(missing)} of {len(ids)} acknowledged entries lost"
