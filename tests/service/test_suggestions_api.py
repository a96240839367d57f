"""Suggestions from traffic over HTTP, with the real model on the indexed FAQ slice: unanswered
questions and users' choices become suggestions; accepting attaches them, rejecting keeps them
away for good; the reviews recalibrate the operating point once there are enough."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from faq_core.settings import Settings
from service.app import create_app
from tests.service.test_api import assert_error
from tests.support.waiting import eventually

KEY = "suggestions-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Line 6 of the slice: "what is amazon sagemaker canvas?"; line 4: hetzner's server auction.
CANVAS = [
    "tell me about sagemaker canvas",
    "sagemaker canvas what is it",
    "what's sagemaker canvas",
]
AUCTION = ["which servers can i get in the hetzner auction", "hetzner server auction: what's there"]
# Asked so that the service does not answer them: they go to the unanswered log.
UNSURE = {"min_confidence": 1.0}


@pytest.fixture
def keyed(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(
        update={
            "api_key": SecretStr(KEY),
            "calibration_min_reviewed": 5,
            "calibration_interval_s": 0.2,
            "watch_interval_s": 0.1,
        }
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def ask(client: TestClient, question: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def suggestions(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/suggestions", headers=AUTH)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["suggestions"]
    return found


def suggestion_with(client: TestClient, question: str) -> dict[str, Any] | None:
    return next((s for s in suggestions(client) if question in s["questions"]), None)


def entry_id_of(client: TestClient, faq_question: str) -> str:
    first = ask(client, faq_question)["answers"][0]
    assert first["question"] == faq_question
    entry_id: str = first["id"]
    return entry_id


def test_unanswered_questions_become_a_suggestion_and_accepting_answers_its_paraphrases(
    keyed: TestClient,
) -> None:
    canvas = entry_id_of(keyed, "what is amazon sagemaker canvas?")
    paraphrase = "could you explain what sagemaker canvas is?"
    before = ask(keyed, paraphrase)
    for question in CANVAS:
        assert ask(keyed, question, **UNSURE)["answered"] is False
    found = eventually(
        lambda: (s := suggestion_with(keyed, CANVAS[0])) and len(s["questions"]) == 3 and s
    )
    assert found, suggestions(keyed)
    assert found["entry_id"] == canvas
    assert sorted(found["questions"]) == sorted(CANVAS)
    assert found["entry"]["question"] == "what is amazon sagemaker canvas?"
    assert found["reasons"]["unanswered"] == 3

    response = keyed.post(f"/suggestions/{found['id']}/accept", headers=AUTH)
    assert response.status_code == 200, response.text
    assert sorted(response.json()["questions"]) == sorted(CANVAS)
    assert set(CANVAS) <= set(response.json()["entry"]["questions"])
    assert suggestion_with(keyed, CANVAS[0]) is None
    # A paraphrase no one asked before is answered now, by that entry, with no doubt.
    after = ask(keyed, paraphrase)
    assert after["answers"][0]["id"] == canvas
    assert after["answers"][0]["matched"] == "alternate"
    assert after["answered"] is True and after["reason"] is None
    assert after["answers"][0]["confidence"] > before["answers"][0]["confidence"]
    # The unanswered group they came from is resolved.
    groups = keyed.get("/unanswered", headers=AUTH).json()["groups"]
    group = next(g for g in groups if CANVAS[0] in g["questions"])
    assert group["resolved"] is True


def test_a_rejected_suggestion_never_comes_back(keyed: TestClient) -> None:
    for question in AUCTION:
        ask(keyed, question, **UNSURE)
    found = eventually(lambda: suggestion_with(keyed, AUCTION[0]))
    assert found
    response = keyed.post(
        f"/suggestions/{found['id']}/reject", json={"questions": [AUCTION[0]]}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.json()["questions"] == [AUCTION[0]]
    # Partly decided, it keeps the rest.
    rest = suggestion_with(keyed, AUCTION[1])
    assert rest is not None and AUCTION[0] not in rest["questions"]
    # Asked again, and again, the rejected pair is not proposed.
    for _ in range(3):
        ask(keyed, AUCTION[0].upper(), **UNSURE)
    time.sleep(1)
    assert all(
        not (s["entry_id"] == found["entry_id"] and AUCTION[0] in s["questions"])
        for s in suggestions(keyed)
    )


def test_an_entry_the_user_chose_becomes_a_suggestion(keyed: TestClient) -> None:
    question = "is there a no code machine learning tool from amazon"
    answers = ask(keyed, question)["answers"]
    chosen = answers[1]["id"]
    response = keyed.post(
        "/feedback",
        json={"question": question, "answer_id": chosen, "helpful": True},
        headers=AUTH,
    )
    assert response.status_code == 201
    found = suggestion_with(keyed, question)
    assert found is not None
    assert found["entry_id"] == chosen
    assert found["reasons"]["chosen"] == 1


def test_accepting_to_another_entry_and_the_errors(keyed: TestClient) -> None:
    for question in AUCTION:
        ask(keyed, question, **UNSURE)
    found = eventually(lambda: suggestion_with(keyed, AUCTION[0]))
    assert found
    other = entry_id_of(keyed, "what is amazon sagemaker canvas?")
    path = f"/suggestions/{found['id']}/accept"
    assert keyed.post(path).status_code == 401
    assert keyed.get("/suggestions").status_code == 401
    assert_error(
        keyed.post(path, json={"questions": ["not one of them"]}, headers=AUTH),
        422,
        "not_in_suggestion",
    )
    assert_error(
        keyed.post(path, json={"entry_id": "no-such-entry"}, headers=AUTH), 404, "entry_not_found"
    )
    response = keyed.post(
        path, json={"entry_id": other, "questions": [AUCTION[1].upper()]}, headers=AUTH
    )
    assert response.status_code == 200, response.text
    assert response.json()["questions"] == [AUCTION[1]]
    assert AUCTION[1] in response.json()["entry"]["questions"]
    assert_error(
        keyed.post("/suggestions/0123456789abcdef0123/accept", headers=AUTH),
        404,
        "suggestion_not_found",
    )


def test_the_operating_point_moves_only_after_enough_reviewed_questions(
    keyed: TestClient,
) -> None:
    def calibration() -> dict[str, Any]:
        record: dict[str, Any] = keyed.get("/manifest").json()["calibration"]
        return record

    servable_point = calibration()["servable_min_confidence"]
    assert calibration()["min_confidence"] == servable_point
    canvas = entry_id_of(keyed, "what is amazon sagemaker canvas?")
    body = {"questions": CANVAS[:2] + AUCTION[:2], "reviewed": "attached"}
    assert keyed.post(f"/answers/{canvas}/questions", json=body, headers=AUTH).status_code == 201
    fitted = eventually(lambda: (c := calibration())["fit"] and c["fit"]["reviewed"] == 4 and c)
    assert fitted, calibration()
    assert fitted["fit"]["min_confidence"] is None
    assert fitted["min_confidence"] == servable_point
    assert "fewer than 5" in fitted["fit"]["reason"]
    body = {"questions": [CANVAS[2]], "reviewed": "attached"}
    assert keyed.post(f"/answers/{canvas}/questions", json=body, headers=AUTH).status_code == 201
    moved = eventually(lambda: (c := calibration())["fit"]["reviewed"] == 5 and c)
    assert moved, calibration()
    assert moved["fit"]["min_confidence"] is not None
    assert moved["min_confidence"] == moved["fit"]["min_confidence"]
    assert moved["why"].startswith("calibrated")
    # /ask answers at it when the request names no point.
    assert ask(keyed, "what is amazon sagemaker canvas?")["min_confidence"] == pytest.approx(
        moved["min_confidence"]
    )


def test_users_questions_attached_as_plain_phrasings_count_as_reviews(keyed: TestClient) -> None:
    canvas = entry_id_of(keyed, "what is amazon sagemaker canvas?")
    asked = CANVAS[0]
    ask(keyed, asked, **UNSURE)
    assert eventually(lambda: suggestion_with(keyed, asked))  # it is in the unanswered log
    written_by_the_team = "amazon's no-code sagemaker tool"
    body = {"questions": [asked, written_by_the_team]}
    assert keyed.post(f"/answers/{canvas}/questions", json=body, headers=AUTH).status_code == 201
    fit = eventually(
        lambda: (f := keyed.get("/manifest").json()["calibration"]["fit"]) and f["reviewed"] and f
    )
    assert fit, keyed.get("/manifest").json()["calibration"]
    assert fit["reviewed"] == 1  # the user's question; the team's phrasing is no review


def test_calibration_turned_off_keeps_the_servables_point(app_settings: Settings) -> None:
    settings = app_settings.model_copy(
        update={"calibrate": False, "calibration_min_reviewed": 1, "calibration_interval_s": 0.2}
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        canvas = entry_id_of(client, "what is amazon sagemaker canvas?")
        body = {"questions": CANVAS, "reviewed": "attached"}
        assert client.post(f"/answers/{canvas}/questions", json=body).status_code == 201
        time.sleep(1)
        calibration = client.get("/manifest").json()["calibration"]
        assert calibration["enabled"] is False
        assert calibration["fit"] is None
        assert calibration["min_confidence"] == calibration["servable_min_confidence"]
        asked = ask(client, CANVAS[0])
        assert asked["min_confidence"] == pytest.approx(calibration["servable_min_confidence"])
