"""faq-index --data with the formats of faq_core.sources: an FAQ page and a QnA Maker export
indexed as they are, and a page that is no FAQ refused with exit 2 and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq_core.errors import CollectionMissing
from faq_core.servable import Servable
from faq_core.settings import Settings
from faq_core.sources.html_page import NOT_AN_FAQ
from faq_core.store.edge import EdgeCatalog
from indexer.cli import main as index_main
from tests.conftest import open_live_store

PAGES = Path(__file__).parents[1] / "fixtures" / "faq_pages"


def test_cli_indexes_an_faq_page_and_a_qna_export(
    index_env: Settings,
    servable: Servable,
    capsys: pytest.CaptureFixture[str],
) -> None:
    index_main(["--data", str(PAGES / "spark-faq.html"), "--quiet"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["lines"] == summary["unique_entries"] == summary["points_after"] == 12
    index_main(["--data", str(PAGES / "covid-bot-kb-excerpt.tsv"), "--quiet"])
    assert json.loads(capsys.readouterr().out)["unique_entries"] == 3
    store = open_live_store(index_env, servable)
    try:
        stored = {e.question: e for e in store.entries()}
    finally:
        store.close()
    # The re-index replaced the page with the export (entries that left the file are dropped).
    assert set(stored) == {
        "When to self-isolate",
        "Compare symptoms of COVID-19, flu and cold",
        "When a fever could be something else",
    }
    isolate = stored["When to self-isolate"]
    assert isolate.extra["qna_id"] == "2"
    assert len(isolate.phrasings) == 3


def test_cli_refuses_a_page_that_is_no_faq_and_writes_nothing(
    tmp_path: Path,
    index_env: Settings,
    servable: Servable,
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = tmp_path / "about.html"
    page.write_text("<!doctype html><title>About</title><h1>About us</h1><p>We sell shoes.</p>")
    with pytest.raises(SystemExit) as exit_info:
        index_main(["--data", str(page), "--quiet"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.err == f"error: no questions found in {page}: {NOT_AN_FAQ}\n"
    assert captured.out == ""
    with pytest.raises(CollectionMissing):
        open_live_store(index_env, servable)
    assert EdgeCatalog(index_env.store_path, index_env.collection).versions() == []
