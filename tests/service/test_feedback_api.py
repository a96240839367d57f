"""POST /feedback: stored durably before the answer, 404 for an unknown answer, protected like the
other writes, bad bodies refused, counted in the metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from faq_core.feedback import FeedbackEvent
from faq_core.servable import fingerprint
from faq_core.settings import Settings
from faq_core.store.edge import FileRecordLog
from service.app import create_app
from tests.service.test_api import assert_error

FEEDBACK = "/feedback"


def feedback_file(settings: Settings) -> FileRecordLog[FeedbackEvent]:
    """The log as another process (faq-feedback export) would read it."""
    path = settings.store_path / f"{settings.collection}.feedback.jsonl"
    return FileRecordLog(path, FeedbackEvent)


def first_answer_id(client: TestClient, question: str) -> str:
    response = client.post("/ask", json={"question": question, "top_k": 1})
    assert response.status_code == 200, response.text
    answer_id: str = response.json()["answers"][0]["id"]
    return answer_id


def test_feedback_is_stored_before_the_response(client: TestClient, app_settings: Settings) -> None:
    answer_id = first_answer_id(client, "does dataproc have an api?")
    body = {
        "question": "  does dataproc have an api?  ",
        "answer_id": answer_id,
        "helpful": True,
        "comment": "exactly what i needed",
        "conversation_id": "chat-42",
    }
    response = client.post(FEEDBACK, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"id", "created_at"}

    (stored,) = feedback_file(app_settings).records()
    assert stored.id == created["id"]
    assert stored.created_at == created["created_at"]
    assert stored.question == "does dataproc have an api?"  # stripped, as every text field
    assert (stored.answer_id, stored.helpful) == (answer_id, True)
    assert (stored.comment, stored.conversation_id) == ("exactly what i needed", "chat-42")
    assert stored.model_id == fingerprint(app_settings.model_path)

    verdict = {"question": "is there a rest api?", "answer_id": answer_id, "helpful": False}
    rejected = client.post(FEEDBACK, json=verdict)
    assert rejected.status_code == 201
    events = feedback_file(app_settings).records()
    assert [(e.helpful, e.comment) for e in events] == [
        (True, "exactly what i needed"),
        (False, None),
    ]

    metrics = client.get("/metrics").text
    assert 'faq_feedback_total{helpful="true"} 1.0' in metrics
    assert 'faq_feedback_total{helpful="false"} 1.0' in metrics


def test_feedback_on_an_unknown_answer_is_404_and_not_stored(
    client: TestClient, app_settings: Settings
) -> None:
    body = {"question": "where is my invoice?", "answer_id": "no-such-entry", "helpful": True}
    assert_error(client.post(FEEDBACK, json=body), 404, "entry_not_found", "no-such-entry")
    assert feedback_file(app_settings).records() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "question"),
        ({"answer_id": "a", "helpful": True}, "question"),
        ({"question": "q", "helpful": True}, "answer_id"),
        ({"question": "q", "answer_id": "a"}, "helpful"),
        ({"question": "   ", "answer_id": "a", "helpful": True}, "question"),
        ({"question": "q", "answer_id": "", "helpful": True}, "answer_id"),
        ({"question": "q", "answer_id": "a", "helpful": "yes"}, "helpful"),
        ({"question": "q", "answer_id": "a", "helpful": 1}, "helpful"),
        ({"question": "q", "answer_id": "a", "helpful": None}, "helpful"),
        ({"question": "x" * 2001, "answer_id": "a", "helpful": True}, "question"),
        ({"question": "q", "answer_id": "a", "helpful": True, "comment": "c" * 2001}, "comment"),
        ({"question": "q", "answer_id": "a", "helpful": True, "comment": " "}, "comment"),
        ({"question": "q", "answer_id": "a", "helpful": True, "rating": 5}, "rating"),
        ([{"question": "q", "answer_id": "a", "helpful": True}], "body"),
    ],
)
def test_feedback_refuses_bad_bodies(
    client: TestClient, app_settings: Settings, body: object, field: str
) -> None:
    error = assert_error(client.post(FEEDBACK, json=body), 422, "invalid_request")
    assert any(field in detail["loc"] or field == "body" for detail in error["details"]), error
    assert feedback_file(app_settings).records() == []


@pytest.fixture
def locked(app_settings: Settings) -> Iterator[tuple[TestClient, Settings]]:
    settings = app_settings.model_copy(update={"api_key": SecretStr("s3cret-key")})
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client, settings


def test_feedback_needs_the_api_key_when_one_is_set(locked: tuple[TestClient, Settings]) -> None:
    client, settings = locked
    answer_id = first_answer_id(client, "does dataproc have an api?")
    body = {"question": "does dataproc have an api?", "answer_id": answer_id, "helpful": True}
    assert_error(client.post(FEEDBACK, json=body), 401, "unauthorized")
    wrong = {"Authorization": "Bearer not-the-key"}
    assert_error(client.post(FEEDBACK, json=body, headers=wrong), 401, "unauthorized")
    assert feedback_file(settings).records() == []
    right = {"Authorization": "Bearer s3cret-key"}
    assert client.post(FEEDBACK, json=body, headers=right).status_code == 201
    assert len(feedback_file(settings).records()) == 1
