"""GET /unanswered and DELETE /unanswered on both store backends (the embedded store, and the
Qdrant stand-in server), with the real model; the log outliving a SIGKILL and a re-index."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from faq_core.settings import Settings
from indexer.run import run_index
from service.app import create_app
from tests.service.conftest import ServerProcess, StandIn, copy_store
from tests.support.backends import BACKENDS

KEY = "unanswered-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
FRANCE = ["what is the capital of france?", "what's the capital of france", "capital of france?"]


@pytest.fixture(params=BACKENDS)
def settings_on(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    trained_servable_dir: Path,
    indexed_store: Path,
    faq_slice: Path,
) -> Iterator[Settings]:
    """The indexed FAQ slice on the embedded store, or on the stand-in Qdrant server."""
    base = Settings(model_path=trained_servable_dir, device="cpu", api_key=KEY)
    if request.param == "edge":
        yield base.model_copy(update={"store_path": copy_store(indexed_store, tmp_path)})
        return
    standin = StandIn(tmp_path / "qdrant")
    standin.start()
    try:
        on_server = base.model_copy(update={"qdrant_url": standin.url})
        run_index(faq_slice, on_server, progress=False)
        yield on_server
    finally:
        standin.stop()


@pytest.fixture
def client(settings_on: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings_on), raise_server_exceptions=False) as test_client:
        yield test_client


def _ask(client: TestClient, question: str) -> dict[str, Any]:
    body: dict[str, Any] = client.post("/ask", json={"question": question}).json()
    return body


def _groups(client: TestClient, want: int, **params: str) -> list[dict[str, Any]]:
    """The groups, once the log holds `want` questions (it is written off the request path)."""
    deadline = time.monotonic() + 20
    while True:
        response = client.get("/unanswered", params=params, headers=AUTH)
        assert response.status_code == 200, response.text
        groups: list[dict[str, Any]] = response.json()["groups"]
        if sum(g["count"] for g in groups) >= want or time.monotonic() > deadline:
            return groups
        time.sleep(0.1)


def test_unanswered_questions_are_grouped_and_a_new_entry_resolves_their_group(
    client: TestClient,
) -> None:
    for question in [*FRANCE, "tell me a joke"]:
        assert _ask(client, question)["answered"] is False
    assert _ask(client, "how do i disable billing?")["answered"] is True  # not logged
    groups = _groups(client, want=4)
    assert [g["questions"] for g in groups] == [FRANCE, ["tell me a joke"]]
    france = groups[0]
    assert france["count"] == 3 and france["resolved"] is False
    assert france["reasons"] == {"no_match": 3, "ambiguous": 0, "unhelpful": 0}
    assert france["first_seen"] <= france["last_seen"]
    assert 0 <= france["best_candidate"]["confidence"] < 0.5

    entry = {"question": FRANCE[0], "answer": "paris is the capital of france", "source": "trivia"}
    assert client.post("/answers", json={"entries": [entry]}, headers=AUTH).status_code == 201
    groups = _groups(client, want=4)
    assert [(g["questions"][0], g["resolved"]) for g in groups] == [
        ("tell me a joke", False),
        (FRANCE[0], True),  # resolved groups come after the open ones
    ]


def test_an_answer_marked_unhelpful_puts_its_question_in_the_log(client: TestClient) -> None:
    body = _ask(client, "how do i disable billing?")
    answer_id = body["answers"][0]["id"]
    verdict = {"question": "how do i disable billing?", "answer_id": answer_id, "helpful": False}
    assert client.post("/feedback", json=verdict, headers=AUTH).status_code == 201
    [group] = _groups(client, want=1)
    assert group["questions"] == ["how do i disable billing?"]
    assert group["reasons"]["unhelpful"] == 1
    assert group["best_candidate"] is None  # its confidence was not recorded


def test_users_words_need_the_key_and_can_be_cleared(client: TestClient) -> None:
    _ask(client, "tell me a joke")
    assert _groups(client, want=1)
    for method in ("GET", "DELETE"):
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = client.request(method, "/unanswered", headers=headers)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "unauthorized"
    assert client.delete("/unanswered", headers=AUTH).status_code == 204
    assert client.get("/unanswered", headers=AUTH).json() == {"groups": []}


def test_since_source_and_limit(client: TestClient) -> None:
    for question in [*FRANCE, "tell me a joke"]:
        _ask(client, question)
    assert len(_groups(client, want=4)) == 2
    assert len(_groups(client, want=4, limit="1")) == 1
    assert _groups(client, want=0, since="2999-01-01T00:00:00Z") == []
    assert _groups(client, want=0, source="no-such-source") == []
    bad = client.get("/unanswered", params={"since": "yesterday"}, headers=AUTH)
    assert bad.status_code == 422


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_log_outlives_a_sigkill_and_a_re_index(
    kind: str, tmp_path: Path, trained_servable_dir: Path, indexed_store: Path, faq_slice: Path
) -> None:
    env = {"FAQ_MODEL_PATH": str(trained_servable_dir), "FAQ_DEVICE": "cpu", "FAQ_JEMALLOC": "0"}
    standin = None
    if kind == "edge":
        env["FAQ_STORE_PATH"] = str(copy_store(indexed_store, tmp_path))
    else:
        standin = StandIn(tmp_path / "qdrant")
        standin.start()
        env["FAQ_QDRANT_URL"] = standin.url
        run_index(faq_slice, Settings(**_settings_of(env)), progress=False)
    try:
        service = ServerProcess(env)
        service.start()
        for question in FRANCE:
            httpx.post(f"{service.url}/ask", json={"question": question}, timeout=30)
        assert _served_counts(service, want=3) == [3]
        assert service.stop(signal.SIGKILL) == -signal.SIGKILL

        reindex = [sys.executable, "-m", "indexer", "--data", str(faq_slice), "--quiet"]
        subprocess.run(reindex, env=service.env, check=True, capture_output=True, timeout=300)
        service.start()
        try:
            assert _served_counts(service, want=3) == [3]
        finally:
            service.stop()
    finally:
        if standin is not None:
            standin.stop()


def _settings_of(env: dict[str, str]) -> dict[str, Any]:
    return {
        "model_path": env["FAQ_MODEL_PATH"],
        "device": env["FAQ_DEVICE"],
        "qdrant_url": env["FAQ_QDRANT_URL"],
    }


def _served_counts(service: ServerProcess, want: int) -> list[int]:
    deadline = time.monotonic() + 20
    while True:
        groups = httpx.get(f"{service.url}/unanswered", timeout=30).json()["groups"]
        counts = [g["count"] for g in groups]
        if sum(counts) >= want or time.monotonic() > deadline:
            return counts
        time.sleep(0.2)
