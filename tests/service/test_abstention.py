"""The service says whether it answers: confidences, `answered`, and why not (real model, real
store, the app in-process)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

# Indexed FAQ questions (the first lines of val.jsonl, tests/service/conftest.py) in a user's
# words.
PARAPHRASES = {
    "what is amazon sagemaker canvas?": "can you explain what sagemaker canvas is",
    "what is azure database for mariadb?": "tell me about azure database for mariadb",
    "does dataproc have an api?": "is there an api for dataproc",
    "how do i disable billing?": "how can i disable my billing",
    "who should use aws cloud9?": "who is aws cloud9 for",
}
OFF_TOPIC = [
    "what is the capital of france?",
    "tell me a joke",
    "asdfgh qwerty",
    "who won the football match last night",
    "what's a good recipe for banana bread",
]


def _ask(client: TestClient, question: str, **params: Any) -> dict[str, Any]:
    response = client.post("/ask", json={"question": question, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_and_nonsense_questions_are_not_answered(
    client: TestClient, question: str
) -> None:
    body = _ask(client, question)
    assert body["answered"] is False
    assert body["reason"] == "no_match"
    assert body["answers"], "the entries found still come back, as suggestions"
    assert all(a["confidence"] < body["min_confidence"] for a in body["answers"])


@pytest.mark.parametrize("faq_question", list(PARAPHRASES))
def test_faq_questions_and_their_paraphrases_are_answered(
    client: TestClient, faq_question: str
) -> None:
    for question in (faq_question, PARAPHRASES[faq_question]):
        body = _ask(client, question)
        assert body["answered"] is True, (question, body["answers"][0])
        assert body["reason"] is None
        first = body["answers"][0]
        assert first["question"] == faq_question
        assert first["confidence"] >= body["min_confidence"]


def test_two_entries_that_ask_the_same_but_answer_differently_are_ambiguous(
    client: TestClient,
) -> None:
    question = "how do i reset the door code of our office?"
    entries = [
        {"question": question, "answer": "ask the front desk for a new door code"},
        {"question": question, "answer": "open the building app and choose reset code"},
    ]
    ids = client.post("/answers", json={"entries": entries}).json()["ids"]
    body = _ask(client, "how can i reset the office door code")
    assert body["answered"] is False
    assert body["reason"] == "ambiguous"
    assert {a["id"] for a in body["answers"][:2]} == set(ids)
    # Once one of them is gone, the other one answers.
    assert client.delete(f"/answers/{ids[1]}").status_code == 204
    body = _ask(client, "how can i reset the office door code")
    assert body["answered"] is True
    assert body["answers"][0]["id"] == ids[0]


def test_the_operating_point_can_be_set_per_request(client: TestClient) -> None:
    question = "how can i disable my billing"
    default = _ask(client, question)
    first = default["answers"][0]["confidence"]
    assert _ask(client, question, min_confidence=0.0)["answered"] is True
    stricter = _ask(client, question, min_confidence=min(1.0, first + 0.01))
    assert stricter["answered"] is False
    assert stricter["min_confidence"] == pytest.approx(min(1.0, first + 0.01))
    # The confidences do not depend on the operating point.
    assert stricter["answers"][0]["confidence"] == pytest.approx(first)


def test_score_threshold_still_only_drops_answers(client: TestClient) -> None:
    question = "can you explain what sagemaker canvas is"
    everything = _ask(client, question, top_k=5)
    cut = everything["answers"][1]["score"]
    kept = _ask(client, question, top_k=5, score_threshold=cut)
    assert [a["id"] for a in kept["answers"]] == [
        a["id"] for a in everything["answers"] if a["score"] >= cut
    ]
    assert kept["answered"] == everything["answered"]  # decided on what the search found


def test_top_k_below_the_models_depth_keeps_the_same_confidences(client: TestClient) -> None:
    question = "is there an api for dataproc"
    one = _ask(client, question, top_k=1)
    five = _ask(client, question, top_k=5)
    assert len(one["answers"]) == 1
    assert one["answers"][0]["confidence"] == pytest.approx(five["answers"][0]["confidence"])
    assert one["answered"] == five["answered"]


def test_the_manifest_names_the_operating_point(client: TestClient) -> None:
    manifest = client.get("/manifest").json()
    body = _ask(client, "tell me a joke")
    assert body["min_confidence"] == pytest.approx(manifest["confidence"]["min_confidence"])
