"""GET /answers (the FAQ a page at a time) and GET /sources, on both store backends: the embedded
Qdrant Edge store, and a Qdrant server (the stand-in process over qdrant-client's local mode)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faq_core.entries import FaqEntry
from faq_core.settings import Settings
from faq_core.sources import read_entries
from indexer.run import run_index, unique_by_id
from service.app import create_app
from tests.service.conftest import StandIn, copy_store

UPPER_CASE_OFFSET = "0B7E9A52-4C1D-5F3E-9A8B-7C6D5E4F3A2B"


@pytest.fixture(scope="module", params=["edge", "server"])
def client(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    indexed_store: Path,
    trained_servable_dir: Path,
    faq_slice: Path,
) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp(request.param)
    standin = None
    if request.param == "edge":
        store_path = copy_store(indexed_store, root)
        settings = Settings(model_path=trained_servable_dir, store_path=store_path, device="cpu")
    else:
        standin = StandIn(root / "qdrant")
        standin.start()
        settings = Settings(model_path=trained_servable_dir, qdrant_url=standin.url, device="cpu")
        run_index(faq_slice, settings, progress=False)
    try:
        with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        if standin is not None:
            standin.stop()


@pytest.fixture(scope="module")
def indexed(faq_slice: Path) -> dict[str, FaqEntry]:
    return {e.entry_id: e for e in unique_by_id(read_entries(faq_slice, require_question=False))}


def all_pages(client: TestClient, limit: int, **params: str) -> tuple[list[dict], int]:
    listed: list[dict] = []
    offset = None
    pages = 0
    while True:
        query = {"limit": limit, **params, **({"offset": offset} if offset else {})}
        response = client.get("/answers", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"entries", "next_offset"}
        assert len(page["entries"]) <= limit
        listed += page["entries"]
        pages += 1
        offset = page["next_offset"]
        if offset is None:
            return listed, pages


def test_pages_hold_every_entry_once_with_its_content(
    client: TestClient, indexed: dict[str, FaqEntry]
) -> None:
    listed, pages = all_pages(client, 25)
    assert pages == -(-len(indexed) // 25)
    assert sorted(e["id"] for e in listed) == sorted(indexed)
    for entry in listed:
        known = indexed[entry["id"]]
        assert entry == {
            "id": known.entry_id,
            "question": known.question,
            "questions": list(known.questions),
            "answer": known.answer,
            "source": known.source,
        }
    assert [e["id"] for e in all_pages(client, 25)[0]] == [e["id"] for e in listed]


def test_a_source_lists_only_its_entries(client: TestClient, indexed: dict[str, FaqEntry]) -> None:
    for source in {e.source for e in indexed.values() if e.source}:
        listed, _ = all_pages(client, 10, source=source)
        assert sorted(e["id"] for e in listed) == sorted(
            i for i, e in indexed.items() if e.source == source
        )
    response = client.get("/answers", params={"source": "no-such-source"})
    assert response.json() == {"entries": [], "next_offset": None}


def test_an_entry_added_at_runtime_is_listed_and_gone_once_deleted(client: TestClient) -> None:
    entry = {"answer": "invoices are emailed on the first day of each month.", "source": "listing"}
    (entry_id,) = client.post("/answers", json={"entries": [entry]}).json()["ids"]
    listed, _ = all_pages(client, 50, source="listing")
    assert [e["id"] for e in listed] == [entry_id]
    assert client.get("/sources").json()["sources"][-1] == {"source": "listing", "count": 1}
    assert client.delete(f"/answers/{entry_id}").status_code == 204
    assert all_pages(client, 50, source="listing")[0] == []
    assert "listing" not in {s["source"] for s in client.get("/sources").json()["sources"]}


def test_sources_count_each_source_biggest_first(
    client: TestClient, indexed: dict[str, FaqEntry]
) -> None:
    body = client.get("/sources").json()
    expected = Counter(e.source for e in indexed.values() if e.source)
    assert body["total"] == len(indexed)
    assert {s["source"]: s["count"] for s in body["sources"]} == expected
    counts = [s["count"] for s in body["sources"]]
    assert counts == sorted(counts, reverse=True)


def test_the_manifest_says_how_many_entries_are_served(
    client: TestClient, indexed: dict[str, FaqEntry]
) -> None:
    index = client.get("/manifest").json()["index"]
    assert index["entries"] == len(indexed)
    assert index["version"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "page-2"}, "offset"),
        ({"offset": ""}, "offset"),
        ({"source": "   "}, "source"),
    ],
    ids=["limit-0", "limit-501", "limit-text", "offset-not-ours", "offset-empty", "source-blank"],
)
def test_a_bad_listing_request_is_refused_with_the_field_named(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    response = client.get("/answers", params=params)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["loc"] == ["query", field]


def test_any_uuid_offset_is_a_place_to_start_from(client: TestClient) -> None:
    """An offset is a point id; one that no entry has still starts a page (after where it would
    sort), as a stale offset from before a delete must."""
    response = client.get("/answers", params={"offset": UPPER_CASE_OFFSET, "limit": 500})
    assert response.status_code == 200
    assert response.json()["next_offset"] is None


def test_the_listing_is_documented_in_the_openapi_schema(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    listing = schema["paths"]["/answers"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"source", "limit", "offset"}
    ok = listing["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/EntriesPage"}
    page = schema["components"]["schemas"]["EntriesPage"]
    assert set(page["required"]) == {"entries", "next_offset"}
    assert "422" in listing["responses"]
    sources = schema["paths"]["/sources"]["get"]["responses"]["200"]
    assert sources["content"]["application/json"]["schema"]["$ref"].endswith("/SourcesPublic")
