"""End to end over real HTTP: a trained servable, the real indexer, `faq-serve` in a process."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from faq_core.servable import fingerprint
from service.allocator import jemalloc_library
from tests.service.conftest import ServerProcess, copy_store

# Paraphrases of questions of the indexed slice (row -> a user's wording), not the stored text.
PARAPHRASES = {
    19: "how can i turn off billing for my project",
    31: "what is aws secrets manager used for",
    12: "is there a rest api for dataproc",
    8: "who is cloud9 meant for",
}


@pytest.fixture
def server(indexed_store: Path, tmp_path: Path, trained_servable_dir: Path):
    process = ServerProcess(
        {
            "FAQ_MODEL_PATH": str(trained_servable_dir),
            "FAQ_STORE_PATH": str(copy_store(indexed_store, tmp_path)),
            "FAQ_DEVICE": "cpu",
        }
    )
    process.start()
    yield process
    if process.process is not None:
        process.stop()


def ask(server: ServerProcess, question: str, **extra: object) -> list[dict]:
    response = httpx.post(f"{server.url}/ask", json={"question": question, **extra}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["answers"]


def test_stored_questions_get_their_own_answer_first(
    server: ServerProcess, faq_rows: list[dict]
) -> None:
    for row in faq_rows[:25]:
        answers = ask(server, row["question"], top_k=3)
        assert answers[0]["answer"] == row["answer"]
        # Most likely first: by confidence, which reads a question match on the answer-match
        # scale, so the raw scores of a question match and an answer match may swap.
        confidences = [a["confidence"] for a in answers]
        assert confidences == sorted(confidences, reverse=True)
        assert len({a["id"] for a in answers}) == len(answers)


def test_paraphrased_questions_find_their_answer(
    server: ServerProcess, faq_rows: list[dict]
) -> None:
    for row_index, paraphrase in PARAPHRASES.items():
        answers = ask(server, paraphrase, top_k=3)
        assert faq_rows[row_index]["answer"] in [a["answer"] for a in answers], paraphrase


def test_source_filter_and_threshold(server: ServerProcess, faq_rows: list[dict]) -> None:
    row = next(r for r in faq_rows if r["source"] == "gcp")
    answers = ask(server, row["question"], top_k=10, filter={"source": "gcp"})
    assert answers and {a["source"] for a in answers} == {"gcp"}
    assert answers[0]["answer"] == row["answer"]
    strict = ask(server, row["question"], top_k=10, score_threshold=0.99)
    assert strict and all(a["score"] >= 0.99 for a in strict)


def test_runtime_entry_is_found_deleted_and_survives_restart(server: ServerProcess) -> None:
    cat = {
        "question": "what is the office cat called?",
        "answer": "the office cat is called tofu",
        "source": "internal",
    }
    created = httpx.post(f"{server.url}/answers", json={"entries": [cat]}, timeout=30)
    assert created.status_code == 201
    (cat_id,) = created.json()["ids"]
    # Searchable as soon as the response is sent, and posting it again creates no duplicate.
    assert ask(server, "name of the cat in the office", top_k=1)[0]["id"] == cat_id
    again = httpx.post(f"{server.url}/answers", json={"entries": [cat]}, timeout=30)
    assert again.json()["ids"] == [cat_id]
    assert [a["id"] for a in ask(server, "office cat name", top_k=5)].count(cat_id) == 1

    assert httpx.get(f"{server.url}/answers/{cat_id}").json()["answer"] == cat["answer"]
    assert httpx.delete(f"{server.url}/answers/{cat_id}").status_code == 204
    assert httpx.get(f"{server.url}/answers/{cat_id}").status_code == 404
    assert httpx.delete(f"{server.url}/answers/{cat_id}").status_code == 404
    assert cat_id not in [a["id"] for a in ask(server, "office cat name", top_k=5)]

    dog = {"answer": "the office dog is called miso", "source": "internal"}
    (dog_id,) = httpx.post(f"{server.url}/answers", json={"entries": [dog]}, timeout=30).json()[
        "ids"
    ]
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
    server.start()
    assert httpx.get(f"{server.url}/answers/{dog_id}").json()["answer"] == dog["answer"]
    assert ask(server, "what is the name of the office dog?", top_k=1)[0]["id"] == dog_id


def test_health_metrics_and_manifest(server: ServerProcess, trained_servable_dir: Path) -> None:
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "reason": None}
    ask(server, "does dataproc have an api?")
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'faq_http_requests_total{method="POST",route="/ask",status="200"}' in metrics
    assert "faq_encode_batch_size_count" in metrics
    manifest = httpx.get(f"{server.url}/manifest").json()
    assert manifest["model_id"] == fingerprint(trained_servable_dir)
    assert set(manifest["data_checksums"]) == {"train", "val"}
    assert manifest["training"]["epochs"] >= 1
    if jemalloc_library() is not None:  # faq-serve restarts itself on it where installed
        assert server.process is not None
        assert "libjemalloc" in Path(f"/proc/{server.process.pid}/maps").read_text()


def test_overload_gets_fast_429_with_retry_after(
    indexed_store: Path, tmp_path: Path, trained_servable_dir: Path, faq_rows: list[dict]
) -> None:
    import asyncio

    process = ServerProcess(
        {
            "FAQ_MODEL_PATH": str(trained_servable_dir),
            "FAQ_STORE_PATH": str(copy_store(indexed_store, tmp_path)),
            "FAQ_DEVICE": "cpu",
            "FAQ_MAX_QUEUE": "2",
        }
    )
    process.start()

    async def burst() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as client:
            return await asyncio.gather(
                *(client.post("/ask", json={"question": row["question"]}) for row in faq_rows[:80])
            )

    try:
        responses = asyncio.run(burst())
    finally:
        process.stop()
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    refused = [r for r in responses if r.status_code == 429]
    assert refused and 200 in statuses
    for response in refused:
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"]["code"] == "overloaded"
