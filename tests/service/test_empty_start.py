"""A FAQ that starts empty: faq-serve on a store without any collection creates an empty one for
its servable, says so in its log and in /manifest (where a mistyped path shows), is ready,
answers with no entries, and the first POST /answers fills it. On both backends, a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.service.conftest import ServerProcess, StandIn

ENTRY = {
    "question": "how do i reset my password?",
    "answer": "Use the reset link on the sign-in page; it is valid for one hour.",
    "source": "accounts",
}
PARAPHRASE = "i forgot my password, how can i set a new one?"


def index_of(service: ServerProcess) -> dict[str, object]:
    response = httpx.get(f"{service.url}/manifest", timeout=30)
    assert response.status_code == 200, response.text
    index: dict[str, object] = response.json()["index"]
    return index


def answers_to(service: ServerProcess, question: str) -> list[dict[str, object]]:
    response = httpx.post(f"{service.url}/ask", json={"question": question}, timeout=30)
    assert response.status_code == 200, response.text
    answers: list[dict[str, object]] = response.json()["answers"]
    return answers


def assert_starts_empty_and_fills(service: ServerProcess, store: str) -> str:
    """Start the service on a store without the collection; returns the id of the entry added."""
    service.start()
    assert httpx.get(f"{service.url}/readyz", timeout=30).json()["status"] == "ok"
    index = index_of(service)
    assert index["created_empty"] is True
    assert (index["entries"], index["store"], index["collection"]) == (0, store, "faq")
    logged = service.stderr()
    assert "created an empty one" in logged and store in logged, logged[-2000:]

    assert answers_to(service, PARAPHRASE) == []
    added = httpx.post(f"{service.url}/answers", json={"entries": [ENTRY]}, timeout=60)
    assert added.status_code == 201, added.text
    (entry_id,) = added.json()["ids"]
    assert [a["id"] for a in answers_to(service, PARAPHRASE)] == [entry_id]
    assert index_of(service)["entries"] == 1
    return str(entry_id)


def serve(env: dict[str, str], trained_servable_dir: Path) -> Iterator[ServerProcess]:
    model = str(trained_servable_dir)
    process = ServerProcess({"FAQ_MODEL_PATH": model, "FAQ_DEVICE": "cpu", **env})
    yield process
    if process.process is not None:
        process.stop()


@pytest.fixture
def embedded(tmp_path: Path, trained_servable_dir: Path) -> Iterator[ServerProcess]:
    # A directory that does not exist yet, as a first start (or a mistyped path) finds it.
    yield from serve({"FAQ_STORE_PATH": str(tmp_path / "new" / "store")}, trained_servable_dir)


def test_the_embedded_service_starts_empty_and_the_first_post_fills_it(
    embedded: ServerProcess, tmp_path: Path
) -> None:
    store = str(tmp_path / "new" / "store")
    entry_id = assert_starts_empty_and_fills(embedded, store)
    embedded.stop()
    embedded.start()  # the collection exists now: nothing is created again
    index = index_of(embedded)
    assert (index["created_empty"], index["entries"]) == (False, 1)
    assert [a["id"] for a in answers_to(embedded, PARAPHRASE)] == [entry_id]


@pytest.fixture
def on_server(tmp_path: Path, trained_servable_dir: Path) -> Iterator[ServerProcess]:
    standin = StandIn(tmp_path / "qdrant")
    standin.start()
    try:
        yield from serve({"FAQ_QDRANT_URL": standin.url}, trained_servable_dir)
    finally:
        standin.stop()


def test_a_service_on_an_empty_qdrant_server_starts_empty_and_the_first_post_fills_it(
    on_server: ServerProcess,
) -> None:
    url = on_server.env["FAQ_QDRANT_URL"]
    assert_starts_empty_and_fills(on_server, url)
    # Another replica started now finds the version the first one created.
    second = ServerProcess(on_server.env)
    second.start()
    try:
        assert index_of(second)["created_empty"] is False
        assert index_of(second)["version"] == index_of(on_server)["version"]
        assert len(answers_to(second, PARAPHRASE)) == 1
    finally:
        second.stop()
