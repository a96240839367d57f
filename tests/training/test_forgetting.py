"""The forgetting check: held-out sources and the hand-written paraphrase FAQ."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faq_core.servable import Servable, encoder_only
from training.data import load_pair_entries
from training.forgetting import PARAPHRASES, compare, main, paraphrase_check


@pytest.fixture(scope="module")
def untuned() -> Servable:
    return encoder_only(None, "cpu")


def test_paraphrase_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in PARAPHRASES.read_text().splitlines()]
    assert len(rows) == 40
    for row in rows:
        assert row["question"] and row["paraphrase"] and row["answer"] and row["source"]
        assert row["paraphrase"] != row["question"]
    assert len({r["answer"] for r in rows}) == len(rows)


def test_the_base_model_finds_most_paraphrases(untuned: Servable) -> None:
    report = paraphrase_check(untuned)
    assert report["entries"] == 40
    for protocol in ("ask", "ask_answers_and_questions"):
        p1, mrr = report[protocol]["precision_at_1"], report[protocol]["mrr"]
        assert 0.5 < p1 <= mrr <= 1.0


def test_a_model_compared_with_itself_passes(untuned: Servable, val_file: Path) -> None:
    heldout = load_pair_entries(val_file, 60)
    report = compare(untuned, untuned, heldout, tolerance=0.0)
    assert report["passed"]
    sources = report["heldout_sources"]
    assert sources["all held-out"]["pairs"] == 60
    assert sum(v["pairs"] for k, v in sources.items() if k != "all held-out") == 60
    for entry in sources.values():
        assert all(v == 0 for d in entry["difference"].values() for v in d.values())


def test_model_mode_prints_the_paraphrase_check(
    trained_servable_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("FAQ_DEVICE", "cpu")
    main(["--model", str(trained_servable_dir)])
    report = json.loads(capsys.readouterr().out)
    assert set(report["paraphrases"]) == {"untuned", "tuned", "difference"}
    assert isinstance(report["passed"], bool)
    assert "heldout_sources" not in report


def test_needs_a_model_or_training_files(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "give either --model, or both --train and --val" in capsys.readouterr().err
