"""POST /import over HTTP, on the indexed FAQ slice with the real model: a real FAQ page and
other formats imported and answered from, every item it could not read reported with where it
is, and files that are no FAQ, too large or hostile refused with the JSON error shape."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from faq_core.settings import Settings
from faq_core.sources.html_page import NOT_AN_FAQ
from service.app import create_app
from tests.service.test_api import assert_error

KEY = "import-test-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
PAGES = Path(__file__).parents[1] / "fixtures" / "faq_pages"
SPARK = (PAGES / "spark-faq.html").read_bytes()


@pytest.fixture
def keyed(app_settings: Settings) -> Iterator[TestClient]:
    settings = app_settings.model_copy(
        update={"api_key": SecretStr(KEY), "import_max_bytes": 64 * 1024, "import_max_entries": 40}
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def total(client: TestClient) -> int:
    count: int = client.get("/sources").json()["total"]
    return count


def post(client: TestClient, name: str, data: bytes, media_type: str = "", **params: str):
    headers = {**AUTH, "Content-Type": media_type} if media_type else AUTH
    return client.post(
        "/import", params={"filename": name, **params}, content=data, headers=headers
    )


def test_an_faq_page_is_imported_and_answers_at_once(keyed: TestClient) -> None:
    before = total(keyed)
    response = post(keyed, "spark-faq.html", SPARK, "text/html", source="spark")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["format"], len(body["ids"]), body["problems"], body["problem_count"]) == (
        "html",
        12,
        [],
        0,
    )
    assert total(keyed) == before + 12
    entry = keyed.get(f"/answers/{body['ids'][5]}").json()
    assert (entry["question"], entry["source"]) == ("Do I need Hadoop to run Spark?", "spark")
    asked = keyed.post("/ask", json={"question": "Do I need Hadoop to run Spark?"}).json()
    assert asked["answers"][0]["id"] == body["ids"][5]
    # Importing the same page again changes nothing: the same entries, the same ids.
    again = post(keyed, "spark-faq.html", SPARK, "text/html", source="spark").json()
    assert again["ids"] == body["ids"] and total(keyed) == before + 12


def test_bad_rows_are_reported_with_where_they_are_and_the_rest_imported(
    keyed: TestClient,
) -> None:
    csv = (
        "question,answer,source,alternates\n"
        "how do i pause my plan?,settings > plan > pause.,imp,can i freeze my plan\n"
        "why is this refused?,,imp,\n"
        f"is a long answer refused?,{'x' * 20_001},imp,\n"
    )
    response = post(keyed, "plans.csv", csv.encode(), "text/plain")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["format"] == "csv" and len(body["ids"]) == 1
    assert body["problems"] == [
        {"where": "plans.csv:3", "reason": "field 'answer' is empty"},
        {
            "where": "plans.csv: entry 2 ('is a long answer refused?')",
            "reason": "answer: String should have at most 20000 characters",
        },
    ]
    entry = keyed.get(f"/answers/{body['ids'][0]}").json()
    assert entry["questions"] == ["how do i pause my plan?", "can i freeze my plan"]


def test_an_xlsx_upload_is_told_by_its_content(keyed: TestClient) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["question", "answer", "source"])
    sheet.append(["what is the office wifi password?", "ask reception.", "office"])
    out = io.BytesIO()
    book.save(out)
    # No name, no type: the content says it is a workbook.
    response = post(keyed, "upload", out.getvalue())
    assert response.status_code == 201, response.text
    assert response.json()["format"] == "xlsx"


def test_a_file_with_nothing_importable_is_a_422_listing_every_problem(keyed: TestClient) -> None:
    before = total(keyed)
    lines = b'{"question": "q?"}\n{not json\n'
    error = assert_error(post(keyed, "bad.jsonl", lines), 422, "nothing_imported")
    assert error["details"] == [
        {"where": "bad.jsonl:1", "reason": "field 'answer' is missing"},
        {
            "where": "bad.jsonl:2",
            "reason": "invalid JSON: Expecting property name enclosed in double quotes",
        },
    ]
    assert total(keyed) == before


def test_a_page_that_is_no_faq_is_refused_and_nothing_written(keyed: TestClient) -> None:
    before = total(keyed)
    page = b"<!doctype html><h1>About us</h1><p>We sell shoes.</p><script>x()</script>"
    error = assert_error(post(keyed, "about.html", page, "text/html"), 422, "no_questions")
    assert error["message"] == f"no questions found in about.html: {NOT_AN_FAQ}"
    assert total(keyed) == before
    assert_error(post(keyed, "notes", b"just words\n"), 422, "unreadable_file", "cannot tell")
    assert_error(post(keyed, "faq.csv", b""), 422, "invalid_request", "the body is empty")


def test_too_large_and_hostile_uploads_are_413(keyed: TestClient) -> None:
    # Past FAQ_IMPORT_MAX_BYTES (64 KiB here): refused by the body limit, before it is read.
    big = b"question,answer\n" + b"q?,a.\n" * 20_000
    assert_error(post(keyed, "big.csv", big), 413, "payload_too_large")
    # Past FAQ_IMPORT_MAX_ENTRIES (40 here).
    many = b"question,answer\n" + b"".join(b"q%d?,a.\n" % i for i in range(41))
    assert_error(post(keyed, "many.csv", many), 413, "payload_too_large", "more than 40 rows")
    # A zip bomb: 64 MB of sheet in a few kilobytes, refused from the archive's directory.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (64 * 2**20))
    assert len(bomb.getvalue()) < 64 * 1024
    assert_error(
        post(keyed, "bomb.xlsx", bomb.getvalue()), 413, "payload_too_large", "unpacks to 67,108,8"
    )


def test_import_needs_the_key(keyed: TestClient) -> None:
    response = keyed.post("/import", params={"filename": "f.html"}, content=SPARK)
    assert_error(response, 401, "unauthorized")
