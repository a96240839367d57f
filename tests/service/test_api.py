"""The HTTP contract's edges: bad input for every endpoint, auth, errors as JSON, never a trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from faq_core.entries import FaqEntry
from faq_core.servable import load_servable
from faq_core.settings import Settings
from indexer.run import run_index
from service.app import create_app
from tests.conftest import expected_answer_vector, open_live_store

ASK = "/ask"
ADD = "/answers"


def assert_error(response, status: int, code: str, match: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert "Traceback" not in response.text
    if match is not None:
        assert match in error["message"], error["message"]
    return error


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"question": ""}, "question"),
        ({"question": "   \n\t"}, "question"),
        ({"question": 42}, "question"),
        ({"question": "x" * 2001}, "question"),
        ({"question": "ok", "top_k": 0}, "top_k"),
        ({"question": "ok", "top_k": 10_000}, "top_k"),
        ({"question": "ok", "top_k": "three"}, "top_k"),
        ({"question": "ok", "score_threshold": 2}, "score_threshold"),
        ({"question": "ok", "filter": {"source": ""}}, "filter"),
        ({"question": "ok", "filter": {"sauce": "aws"}}, "filter"),
        ({"question": "ok", "colour": "blue"}, "colour"),
        ([{"question": "a list"}], "body"),
    ],
)
def test_ask_refuses_bad_input(client: TestClient, body: object, field: str) -> None:
    error = assert_error(client.post(ASK, json=body), 422, "invalid_request")
    assert any(field in detail["loc"] or field == "body" for detail in error["details"]), error


def test_ask_refuses_malformed_bodies(client: TestClient) -> None:
    assert_error(
        client.post(ASK, content=b'{"question": ', headers={"content-type": "application/json"}),
        422,
        "invalid_request",
        "JSON",
    )
    invalid_utf8 = b'{"question": "caf\xe9"}'
    assert_error(
        client.post(ASK, content=invalid_utf8, headers={"content-type": "application/json"}),
        400,
        "bad_request",
    )
    assert_error(
        client.post(ASK, content=b"question=hi", headers={"content-type": "text/plain"}),
        422,
        "invalid_request",
    )


def test_oversized_body_gets_413(client: TestClient) -> None:
    huge = {"entries": [{"answer": "a" * 19_000} for _ in range(300)]}
    assert_error(client.post(ADD, json=huge), 413, "payload_too_large")


def test_add_refuses_bad_entries(client: TestClient) -> None:
    for body in (
        {},
        {"entries": []},
        {"entries": [{"question": "no answer"}]},
        {"entries": [{"answer": "   "}]},
        {"entries": [{"answer": "ok", "id": ""}]},
        {"entries": [{"answer": "ok", "rank": 3}]},
        {"entries": [{"answer": "ok"}] * 1001},
        {"entries": "not a list"},
    ):
        assert_error(client.post(ADD, json=body), 422, "invalid_request")


def test_unknown_ids_routes_and_methods(client: TestClient) -> None:
    assert_error(client.get("/answers/no-such-entry"), 404, "entry_not_found", "no-such-entry")
    assert_error(client.delete("/answers/no-such-entry"), 404, "entry_not_found")
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.put(ASK, json={"question": "hi"}), 405, "method_not_allowed")


def test_every_response_has_a_request_id(client: TestClient) -> None:
    response = client.post(
        ASK, json={"question": "does dataproc have an api?"}, headers={"x-request-id": "chat-42"}
    )
    assert response.headers["x-request-id"] == "chat-42"
    error = assert_error(client.post(ASK, json={}), 422, "invalid_request")
    assert error["request_id"]


def test_ask_answers_in_the_contract_shape(client: TestClient) -> None:
    response = client.post(ASK, json={"question": "does dataproc have an api?", "top_k": 2})
    assert response.status_code == 200
    answers = response.json()["answers"]
    assert len(answers) == 2
    assert set(answers[0]) >= {"id", "question", "answer", "source", "score", "matched"}
    assert answers[0]["score"] >= answers[1]["score"]


@pytest.fixture
def locked_client(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"api_key": "s3cret-key"})
    from pydantic import SecretStr

    settings.api_key = SecretStr("s3cret-key")
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def test_writes_need_the_api_key_reads_do_not(locked_client: TestClient) -> None:
    entry = {
        "entries": [
            {"answer": "keys are rotated every 90 days", "question": "how often are keys rotated?"}
        ]
    }
    assert_error(locked_client.post(ADD, json=entry), 401, "unauthorized")
    wrong = {"Authorization": "Bearer not-the-key"}
    response = locked_client.post(ADD, json=entry, headers=wrong)
    assert_error(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    right = {"Authorization": "Bearer s3cret-key"}
    created = locked_client.post(ADD, json=entry, headers=right)
    assert created.status_code == 201
    (entry_id,) = created.json()["ids"]
    assert locked_client.get(f"/answers/{entry_id}").status_code == 200
    assert locked_client.post(ASK, json={"question": "key rotation"}).status_code == 200
    assert_error(locked_client.delete(f"/answers/{entry_id}", headers=wrong), 401, "unauthorized")
    assert locked_client.delete(f"/answers/{entry_id}", headers=right).status_code == 204


def test_service_refuses_a_collection_built_by_another_servable(
    app_settings: Settings, untrained_servable_dir
) -> None:
    other = app_settings.model_copy(update={"model_path": untrained_servable_dir})
    from faq_core.errors import ModelMismatch

    with pytest.raises(ModelMismatch, match="re-index"), TestClient(create_app(other)):
        pass


def test_answers_added_at_runtime_are_encoded_with_the_servables_answer_encoding(
    tmp_path: Path, faq_slice: Path, contextual_servable_dir: Path
) -> None:
    settings = Settings(
        model_path=contextual_servable_dir, store_path=tmp_path / "store", device="cpu"
    )
    run_index(faq_slice, settings, progress=False)  # the plain servable's store would not do
    entry = {"answer": "restart the router, then sign in again.", "source": "home_wifi"}
    with TestClient(create_app(settings)) as client:
        created = client.post(ADD, json={"entries": [entry]})
        assert created.status_code == 201, created.text
        (entry_id,) = created.json()["ids"]
    servable = load_servable(contextual_servable_dir, "cpu")
    store = open_live_store(settings, servable)
    try:
        stored = store.get_encoded([entry_id])[entry_id]
    finally:
        store.close()
    expected = expected_answer_vector(servable, FaqEntry(entry["answer"], source="home_wifi"))
    (plain,) = servable.encode([entry["answer"]])
    assert np.allclose(stored.answer_vector, expected, atol=1e-4)
    assert not np.allclose(stored.answer_vector, plain, atol=1e-2)


def test_an_unknown_or_repeated_query_parameter_is_refused(client: TestClient) -> None:
    params = [("source", "aws"), ("source", "gcp"), ("limit", 2), ("sorce", "aws")]
    response = client.get("/answers", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"] == [
        {"loc": ["query", "source"], "msg": "given more than once", "type": "repeated"},
        {"loc": ["query", "sorce"], "msg": "not a parameter of this endpoint", "type": "unknown"},
    ]
    assert client.get("/answers", params={"source": "aws", "limit": 2}).status_code == 200
    bad = client.get("/unanswered", params=[("limit", 1), ("limit", 2)])
    assert bad.status_code == 422
