"""Entries with several questions over HTTP: POST /answers with `questions`, adding and removing
phrasings, what /ask says matched; on the indexed FAQ slice with the real model."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from faq_core.entries import MAX_QUESTIONS
from faq_core.settings import Settings
from service.app import create_app
from tests.service.test_api import assert_error

KEY = "phrasings-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
CAT = {
    "answer": "Our office cat is called Tofu; she sleeps by the radiator.",
    "questions": ["what is the office cat called?", "the cat's name?"],
    "source": "internal",
}


@pytest.fixture
def keyed(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(update={"api_key": SecretStr(KEY)})
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def add(client: TestClient, *entries: dict[str, Any]) -> list[str]:
    response = client.post("/answers", json={"entries": list(entries)}, headers=AUTH)
    assert response.status_code == 201, response.text
    ids: list[str] = response.json()["ids"]
    return ids


def ask(client: TestClient, question: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/ask", json={"question": question, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_an_entry_posted_with_its_questions_is_matched_by_each_and_lists_them(
    keyed: TestClient,
) -> None:
    [cat] = add(keyed, CAT)
    entry = keyed.get(f"/answers/{cat}").json()
    assert entry["question"] == CAT["questions"][0]
    assert entry["questions"] == CAT["questions"]
    first = ask(keyed, "the cat's name?")["answers"][0]
    assert (first["id"], first["matched"], first["matched_text"]) == (
        cat,
        "alternate",
        "the cat's name?",
    )
    assert first["question"] == CAT["questions"][0]
    by_main = ask(keyed, "what is the office cat called?")["answers"][0]
    assert (by_main["id"], by_main["matched"]) == (cat, "question")
    listed = keyed.get("/answers", params={"source": "internal"}).json()["entries"]
    assert [e["questions"] for e in listed] == [CAT["questions"]]


def test_phrasings_added_later_are_matched_at_once_and_kept_when_the_entry_is_posted_again(
    keyed: TestClient,
) -> None:
    [cat] = add(keyed, CAT)
    asked = "does the cat in the office have a name"
    before = ask(keyed, asked)["answers"][0]
    assert before["matched_text"] != asked
    response = keyed.post(f"/answers/{cat}/questions", json={"questions": [asked]}, headers=AUTH)
    assert response.status_code == 201, response.text
    assert response.json()["questions"] == [*CAT["questions"], asked]
    after = ask(keyed, asked)["answers"][0]
    assert (after["id"], after["matched"], after["matched_text"]) == (cat, "alternate", asked)
    assert after["score"] == pytest.approx(1.0, abs=1e-3)
    # The same phrasing again, even spaced and cased otherwise, changes nothing.
    again = keyed.post(
        f"/answers/{cat}/questions", json={"questions": [f"  {asked.upper()} "]}, headers=AUTH
    )
    assert again.status_code == 201
    assert again.json()["questions"] == [*CAT["questions"], asked]
    # Posting the entry again with other given phrasings keeps the one added later.
    add(keyed, {**CAT, "questions": [CAT["questions"][0], "name of the cat?"]})
    assert keyed.get(f"/answers/{cat}").json()["questions"] == [
        CAT["questions"][0],
        "name of the cat?",
        asked,
    ]


def test_an_entry_with_many_phrasings_is_not_ambiguous_with_itself(keyed: TestClient) -> None:
    phrasings = [
        "how do i reset the password of my router?",
        "how can i reset my router password",
        "reset router password",
        "i forgot my router's password, how do i reset it?",
        "router password reset steps",
        "how to reset the password on the router",
        "what do i do to reset my router password",
        "resetting the router password",
        "change router password after forgetting it",
        "router admin password forgotten: reset?",
    ]
    [router] = add(
        keyed,
        {
            "answer": "Hold the reset button on the back for ten seconds; the password on the "
            "label works again.",
            "questions": phrasings,
            "source": "internal",
        },
    )
    result = ask(keyed, "how would i reset the password of the router", top_k=5)
    ids = [a["id"] for a in result["answers"]]
    assert ids[0] == router and ids.count(router) == 1
    assert result["reason"] != "ambiguous"
    assert result["answered"] is True


def test_removing_phrasings(keyed: TestClient) -> None:
    [cat] = add(keyed, CAT)
    alternate = quote(CAT["questions"][1], safe="")
    assert keyed.delete(f"/answers/{cat}/questions/{alternate}").status_code == 401
    assert keyed.delete(f"/answers/{cat}/questions/{alternate}", headers=AUTH).status_code == 204
    assert keyed.get(f"/answers/{cat}").json()["questions"] == CAT["questions"][:1]
    assert_error(
        keyed.delete(f"/answers/{cat}/questions/{alternate}", headers=AUTH),
        404,
        "phrasing_not_found",
    )
    main = quote(CAT["questions"][0].upper(), safe="")
    assert_error(
        keyed.delete(f"/answers/{cat}/questions/{main}", headers=AUTH), 409, "faq_question"
    )
    slashed = "is tofu/the cat vaccinated?"
    keyed.post(f"/answers/{cat}/questions", json={"questions": [slashed]}, headers=AUTH)
    path = f"/answers/{cat}/questions/{quote(slashed, safe='')}"
    assert keyed.delete(path, headers=AUTH).status_code == 204
    assert_error(
        keyed.delete(f"/answers/nope/questions/{alternate}", headers=AUTH), 404, "entry_not_found"
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"questions": []}, 422, "invalid_request"),
        ({"questions": [""]}, 422, "invalid_request"),
        ({"questions": ["   "]}, 422, "invalid_request"),
        ({"questions": ["x" * 2001]}, 422, "invalid_request"),
        ({"questions": ["ok"] * (MAX_QUESTIONS + 1)}, 422, "invalid_request"),
        ({"questions": "one string"}, 422, "invalid_request"),
        ({"question": "singular"}, 422, "invalid_request"),
    ],
)
def test_bad_phrasings_are_refused(
    keyed: TestClient, body: dict[str, Any], status: int, code: str
) -> None:
    [cat] = add(keyed, CAT)
    assert_error(keyed.post(f"/answers/{cat}/questions", json=body, headers=AUTH), status, code)
    assert keyed.get(f"/answers/{cat}").json()["questions"] == CAT["questions"]


def test_phrasings_for_an_unknown_entry_or_past_the_limit_are_refused(keyed: TestClient) -> None:
    assert_error(
        keyed.post("/answers/nope/questions", json={"questions": ["a"]}, headers=AUTH),
        404,
        "entry_not_found",
    )
    [cat] = add(keyed, CAT)
    room = MAX_QUESTIONS - len(CAT["questions"])
    fill = [f"variant number {n} of the cat question" for n in range(room)]
    response = keyed.post(f"/answers/{cat}/questions", json={"questions": fill}, headers=AUTH)
    assert response.status_code == 201
    assert len(response.json()["questions"]) == MAX_QUESTIONS
    assert_error(
        keyed.post(f"/answers/{cat}/questions", json={"questions": ["one more"]}, headers=AUTH),
        422,
        "too_many_questions",
        f"limit of {MAX_QUESTIONS}",
    )
    # One the entry has already is no new question.
    same = keyed.post(f"/answers/{cat}/questions", json={"questions": [fill[0]]}, headers=AUTH)
    assert same.status_code == 201


@pytest.mark.parametrize(
    "entry",
    [
        {**CAT, "question": "another question"},
        {**CAT, "questions": []},
        {**CAT, "questions": ["ok", ""]},
        {**CAT, "questions": ["q"] * (MAX_QUESTIONS + 1)},
    ],
)
def test_bad_questions_of_a_new_entry_are_refused(keyed: TestClient, entry: dict) -> None:
    response = keyed.post("/answers", json={"entries": [entry]}, headers=AUTH)
    assert_error(response, 422, "invalid_request")


def test_question_and_questions_agreeing_are_taken(keyed: TestClient) -> None:
    [cat] = add(keyed, {**CAT, "question": CAT["questions"][0]})
    assert keyed.get(f"/answers/{cat}").json()["questions"] == CAT["questions"]


def test_deleting_an_entry_takes_its_phrasings_with_it(keyed: TestClient) -> None:
    [cat] = add(keyed, CAT)
    assert keyed.delete(f"/answers/{cat}", headers=AUTH).status_code == 204
    answers = ask(keyed, "the cat's name?", top_k=10)["answers"]
    assert all(a["id"] != cat for a in answers)
