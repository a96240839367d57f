"""faq-store as an operator runs it: processes, a running service, a Qdrant stand-in, SIGKILL.

- the embedded store is held by a running faq-serve: a direct export says to go through it, and
  `faq-store export --url` does; restored into an empty store of either backend, the service
  answers the same questions the same way;
- a restore killed (SIGKILL) while it writes the points leaves the store as it was; one killed
  while it writes the records resumes when run again, and ends with exactly the export's
  content; meanwhile another export is refused;
- an export without vectors, or restored for another servable, is encoded by that servable.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from backup.run import restore_file
from faq_core.servable import Servable, load_servable
from faq_core.settings import Settings
from faq_core.store import Backend
from faq_core.store.edge import EdgeBackend
from faq_core.store.restore import MARK_LOG, RestoreMark, holdings
from tests.conftest import expected_answer_vector, open_live_store
from tests.service.conftest import ServerProcess, StandIn, copy_store
from tests.support.deployment import body, export_bytes, fill, same_export

KEY = "store-io-test-key"


def faq_store(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backup", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def answers(url: str, questions: list[str]) -> list[dict[str, Any]]:
    found = []
    for question in questions:
        reply = httpx.post(f"{url}/ask", json={"question": question, "top_k": 3}, timeout=30)
        reply.raise_for_status()
        found.append(reply.json())
    return found


def same_answers(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """The same decisions, the same entries in the same order, matched by the same text, with
    the same scores (to float32: a server normalizes the vectors it stores)."""
    for b, a in zip(before, after, strict=True):
        assert (a["answered"], a["reason"]) == (b["answered"], b["reason"])
        assert [x["id"] for x in a["answers"]] == [x["id"] for x in b["answers"]]
        assert [x["matched_text"] for x in a["answers"]] == [
            x["matched_text"] for x in b["answers"]
        ]
        for x, y in zip(a["answers"], b["answers"], strict=True):
            assert x["score"] == pytest.approx(y["score"], abs=1e-5)
            assert x["confidence"] == pytest.approx(y["confidence"], abs=1e-4)


@pytest.fixture
def standin(tmp_path: Path) -> Iterator[StandIn]:
    server = StandIn(tmp_path / "qdrant")
    server.start()
    yield server
    server.stop()


def test_a_served_embedded_store_is_exported_through_the_service_and_restored_on_both_backends(
    indexed_store: Path,
    trained_servable_dir: Path,
    faq_rows: list[dict[str, str]],
    tmp_path: Path,
    standin: StandIn,
) -> None:
    base = {"FAQ_MODEL_PATH": str(trained_servable_dir), "FAQ_DEVICE": "cpu"}
    source = {
        **base,
        "FAQ_STORE_PATH": str(copy_store(indexed_store, tmp_path)),
        "FAQ_API_KEY": KEY,
    }
    service = ServerProcess(source)
    service.start()
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        added = httpx.post(
            f"{service.url}/answers",
            json={"entries": [{"question": "what is the office cat called?", "answer": "tofu"}]},
            headers=auth,
        ).json()["ids"][0]
        httpx.post(
            f"{service.url}/answers/{added}/questions",
            json={"questions": ["who is the cat in the office"]},
            headers=auth,
        ).raise_for_status()
        first = faq_rows[0]
        httpx.post(
            f"{service.url}/feedback",
            json={
                "question": "how do i see my bill?",
                "answer_id": _id_of(service, first),
                "helpful": True,
            },
            headers=auth,
        ).raise_for_status()
        questions = [
            "who is the cat in the office",
            "what's the office cat's name?",
            *[row["question"] + " please" for row in faq_rows[:8]],
            "what is the capital of france?",
        ]
        before = answers(service.url, questions)

        out = tmp_path / "export.jsonl"
        held = faq_store("export", "--out", str(out), env=source)
        assert held.returncode == 2
        assert "in use by another process" in held.stderr
        assert "faq-store export --url" in held.stderr
        assert not out.exists()
        keyless = faq_store("export", "--url", service.url, "--out", str(out), env=base)
        assert keyless.returncode == 2 and "answered 401" in keyless.stderr
        done = faq_store("export", "--url", service.url, "--out", str(out), env=source)
        assert done.returncode == 0, done.stderr
        counts = json.loads(done.stdout)["counts"]
        assert counts["entries"] == 121 and counts["phrasings"] == 1 and counts["feedback"] == 1
    finally:
        service.stop()

    # Into an empty embedded store, and into a server: the same answers. The servable that
    # serves made the vectors, so they are copied, not encoded.
    embedded = {**base, "FAQ_STORE_PATH": str(tmp_path / "restored")}
    server = {**base, "FAQ_QDRANT_URL": standin.url}
    for target in (embedded, server):
        restored = faq_store("restore", str(out), env=target)
        assert restored.returncode == 0, restored.stderr
        summary = json.loads(restored.stdout)
        assert summary["vectors"] == "copied" and summary["entries"] == 121
        again = ServerProcess(target)
        again.start()
        try:
            same_answers(before, answers(again.url, questions))
        finally:
            again.stop()
    refused = faq_store("restore", str(out), env=server)
    assert refused.returncode == 2
    assert "is not empty (collection 'faq' holds 121 entries, 1 feedback" in refused.stderr


def _id_of(service: ServerProcess, row: dict[str, str]) -> str:
    reply = httpx.post(f"{service.url}/ask", json={"question": row["question"], "top_k": 1})
    return str(reply.json()["answers"][0]["id"])


# ---- SIGKILL during a restore ----------------------------------------------------------------


# Entries and records (of each log; unanswered twice as many) for the writing of either to take
# seconds: the server's stand-in writes a point in about a millisecond; Qdrant Edge is far
# faster, but builds its HNSW index (vectors of 384, every entry with phrasings) before the
# records are written.
SIZES = {"edge": (2000, 6000), "server": (1000, 1000)}


def big_export(kind: str, root: Path, val_file: Path) -> tuple[Path, bytes]:
    entries, records = SIZES[kind]
    backend = EdgeBackend(root / "store", "faq")
    shape = {"dim": 384, "phrased_every": 1} if kind == "edge" else {}
    fill(backend, val_file, entries=entries, records=records, **shape)
    data = export_bytes(backend)
    backend.close()
    path = root / "export.jsonl"
    path.write_bytes(data)
    return path, data


@pytest.fixture(params=["edge", "server"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def target(kind: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a restore into an empty store of `kind`: the server's stand-in keeps
    its data in memory-backed files where there are (on disk, its SQLite commits each point)."""
    env = {"FAQ_MODEL_PATH": str(tmp_path / "no-servable"), "FAQ_QDRANT_TIMEOUT_S": "60"}
    if kind == "edge":
        yield {**env, "FAQ_STORE_PATH": str(tmp_path / "target")}
        return
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as data:
        standin = StandIn(Path(data) / "qdrant")
        standin.start()
        try:
            yield {**env, "FAQ_QDRANT_URL": standin.url}
        finally:
            standin.stop()


def killed_at(line: str, path: Path, env: dict[str, str]) -> None:
    """Start `faq-store restore`, SIGKILL it as soon as it logs `line`, and check that it was
    still running then."""
    process = subprocess.Popen(
        [sys.executable, "-m", "backup", "--verbose", "restore", str(path)],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    logged = []
    for logged_line in process.stderr:
        logged.append(logged_line)
        if line in logged_line:
            process.send_signal(signal.SIGKILL)
            break
    assert process.wait(timeout=60) == -signal.SIGKILL, "".join(logged[-20:])


def backend_of(env: dict[str, str]) -> Backend:
    from faq_core.store import open_backend

    store_path = Path(env.get("FAQ_STORE_PATH", "unused"))
    url = env.get("FAQ_QDRANT_URL")
    return open_backend(Settings(store_path=store_path, qdrant_url=url, qdrant_timeout_s=60.0))


def test_a_restore_killed_while_it_writes_the_points_leaves_the_store_as_it_was(
    kind: str, target: dict[str, str], tmp_path: Path, val_file: Path
) -> None:
    path, data = big_export(kind, tmp_path / "export", val_file)
    killed_at("wrote 256 points", path, target)
    backend = backend_of(target)
    try:
        assert backend.catalog.live() is None  # nothing live: nothing half restored is served
        assert holdings(backend) == {}
    finally:
        backend.close()
    done = faq_store("restore", str(path), env=target)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resumed"] is True
    backend = backend_of(target)
    try:
        same_export(data, export_bytes(backend), vectors_exact=kind == "edge")
        assert backend.catalog.versions() == [backend.catalog.live()]  # the killed one is gone
    finally:
        backend.close()


def test_a_restore_killed_while_it_writes_the_records_resumes_when_run_again(
    kind: str, target: dict[str, str], tmp_path: Path, val_file: Path
) -> None:
    path, data = big_export(kind, tmp_path / "export", val_file)
    records = SIZES[kind][1]
    killed_at("wrote 1024 unanswered records", path, target)
    backend = backend_of(target)
    try:
        assert backend.catalog.live() is None
        held = holdings(backend)
        assert held["feedback"] == records and 1024 <= held["unanswered"] < 2 * records
        assert len(backend.record_log(MARK_LOG, RestoreMark).records()) == 1
    finally:
        backend.close()
    # Another export is not restored over half of this one.
    other = tmp_path / "other.jsonl"
    source = EdgeBackend(tmp_path / "other", "faq")
    fill(source, val_file, entries=5, records=1, seed=3)
    other.write_bytes(export_bytes(source))
    source.close()
    refused = faq_store("restore", str(other), env=target)
    assert refused.returncode == 2
    assert "was interrupted: run that restore again" in refused.stderr
    done = faq_store("restore", str(path), env=target)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["resumed"] is True
    backend = backend_of(target)
    try:
        # Every record once: those written before the kill were not written twice.
        same_export(data, export_bytes(backend), vectors_exact=kind == "edge")
        assert backend.record_log(MARK_LOG, RestoreMark).records() == []
    finally:
        backend.close()


# ---- encoding again ----------------------------------------------------------------------------


def test_an_export_without_vectors_or_for_another_servable_is_encoded_by_the_servable(
    indexed_store: Path,
    trained_servable_dir: Path,
    untrained_servable_dir: Path,
    servable: Servable,
    tmp_path: Path,
) -> None:
    settings = Settings(
        model_path=trained_servable_dir,
        store_path=copy_store(indexed_store, tmp_path),
        device="cpu",
    )
    from faq_core.store import open_backend

    backend = open_backend(settings)
    with_vectors, without = export_bytes(backend), export_bytes(backend, vectors=False)
    backend.close()
    assert len(without) * 5 < len(with_vectors)
    assert all("vectors" not in line for line in body(without))
    files = tmp_path / "with.jsonl", tmp_path / "without.jsonl"
    files[0].write_bytes(with_vectors)
    files[1].write_bytes(without)

    same = settings.model_copy(update={"store_path": tmp_path / "same"})
    assert restore_file(same, files[1]).vectors == "encoded"
    store = open_live_store(same, servable)
    original = open_live_store(settings, servable)
    try:
        ids = [e.entry_id for e in original.entries()][:20]
        for eid, item in store.get_encoded(ids).items():
            was = original.get_encoded([eid])[eid]
            assert np.allclose(item.answer_vector, was.answer_vector, atol=1e-5)
    finally:
        store.close()
        original.close()

    other = settings.model_copy(
        update={"store_path": tmp_path / "other", "model_path": untrained_servable_dir}
    )
    summary = restore_file(other, files[0])
    untrained = load_servable(untrained_servable_dir, "cpu")
    assert summary.vectors == "encoded" and summary.model_id == untrained.model_id
    store = open_live_store(other, untrained)
    try:
        entry = next(store.entries())
        stored = store.get_encoded([entry.entry_id])[entry.entry_id]
        assert np.allclose(
            stored.answer_vector, expected_answer_vector(untrained, entry), atol=1e-5
        )
    finally:
        store.close()


# ---- copy ------------------------------------------------------------------------------------


def test_copy_moves_an_embedded_store_into_a_server(tmp_path: Path, val_file: Path) -> None:
    embedded = EdgeBackend(tmp_path / "store", "faq")
    fill(embedded, val_file, entries=60, records=5)
    data = export_bytes(embedded)
    embedded.close()
    env = {"FAQ_STORE_PATH": str(tmp_path / "store"), "FAQ_MODEL_PATH": str(tmp_path / "none")}
    wrong = faq_store("copy", "--to", "qdrant:6333", env=env)
    assert wrong.returncode == 2 and "a Qdrant server's URL, http(s)://HOST:PORT" in wrong.stderr
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else tmp_path) as where:
        standin = StandIn(Path(where) / "qdrant")
        standin.start()
        try:
            done = faq_store("copy", "--to", standin.url, env=env)
            assert done.returncode == 0, done.stderr
            summary = json.loads(done.stdout)
            assert (summary["entries"], summary["phrasings"]) == (65, 36)
            assert summary["records"] == {
                "feedback": 5,
                "unanswered": 10,
                "reviews": 5,
                "rejections": 5,
            }
            server = backend_of({"FAQ_QDRANT_URL": standin.url})
            try:
                same_export(data, export_bytes(server), vectors_exact=False)
            finally:
                server.close()
            again = faq_store("copy", "--to", standin.url, env=env)
            assert again.returncode == 2 and "is not empty" in again.stderr
        finally:
            standin.stop()
