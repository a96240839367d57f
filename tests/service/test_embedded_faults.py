"""Faults of the embedded store under a running service: a real Edge error (its shard closed
under the service) and the store's files removed. Every store-backed endpoint answers 503 with
the JSON error, the breaker opens, `/readyz` says 503 and never 500, and no write is
acknowledged that the store could not keep."""

from __future__ import annotations

import shutil

from fastapi.testclient import TestClient

from faq_core.settings import Settings
from service.app import create_app
from service.engine import AnswerEngine
from tests.service.test_api import assert_error

QUESTION = "is there a rest api for dataproc?"


def engine_of(client: TestClient) -> AnswerEngine:
    engine: AnswerEngine = client.app.state.engine  # type: ignore[attr-defined]
    return engine


def assert_store_unavailable(client: TestClient, reason: str) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 503, ready.text
    assert ready.json()["status"] == "not ready" and reason in ready.json()["reason"]
    assert_error(client.post("/ask", json={"question": QUESTION}), 503, "store_unavailable")
    assert_error(client.get("/answers/some-id"), 503, "store_unavailable")
    added = client.post("/answers", json={"entries": [{"answer": "kept while it is broken?"}]})
    assert_error(added, 503, "store_unavailable")
    assert engine_of(client).breaker.reason  # the failure opened the breaker


def test_an_edge_error_under_the_service_is_a_503_not_a_500(app_settings: Settings) -> None:
    settings = app_settings.model_copy(update={"watch_interval_s": 60.0, "store_retry_s": 60.0})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.post("/ask", json={"question": QUESTION}).status_code == 200
        store = engine_of(client).store
        assert store is not None
        store.shard.close()  # type: ignore[attr-defined]  # Edge raises on every call from now on
        assert_store_unavailable(client, "Shard is not initialized")


def test_removed_store_files_are_a_503_and_no_write_is_acknowledged(
    app_settings: Settings,
) -> None:
    settings = app_settings.model_copy(update={"watch_interval_s": 60.0, "store_retry_s": 0.1})
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 200
        shutil.rmtree(settings.store_path)
        assert_store_unavailable(client, "are gone")
