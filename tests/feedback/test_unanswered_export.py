"""faq-feedback unanswered: the log's groups as JSON Lines, each marked resolved when the live
version answers it now, through the console script, on the embedded store."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from faq_core.settings import Settings
from faq_core.store.edge import EdgeBackend
from faq_core.unanswered import UNANSWERED_LOG, UnansweredQuestion
from feedback.cli import main
from indexer.run import run_index

FAQ = [
    {"question": "what is the capital of france?", "answer": "paris is the capital of france"},
    {"question": "how do i reset my password?", "answer": "use the reset link on the sign-in page"},
]
ASKED = [
    "what is the capital of france?",
    "what's the capital of france",
    "tell me a joke",
    "tell me a joke",
    "can you tell me a joke",
]


def test_the_export_groups_the_log_and_marks_what_the_faq_now_answers(
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "faq.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in FAQ))
    run_index(data, settings, progress=False)
    log = EdgeBackend(settings.store_path, settings.collection).record_log(
        UNANSWERED_LOG, UnansweredQuestion
    )
    log.append_many([UnansweredQuestion(question=q, reason="no_match") for q in ASKED])
    for name, value in {
        "FAQ_MODEL_PATH": settings.model_path,
        "FAQ_STORE_PATH": settings.store_path,
        "FAQ_DEVICE": "cpu",
        # Every question answered that the FAQ answers at all: a configured 0 is a point too.
        "FAQ_MIN_CONFIDENCE": "0",
    }.items():
        monkeypatch.setenv(name, str(value))
    out = tmp_path / "unanswered.jsonl"

    main(["unanswered", "--out", str(out)])

    summary = json.loads(capsys.readouterr().out)
    assert (summary["questions"], summary["groups"]) == (5, 2)
    groups = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["questions"][0] for g in groups] == ["tell me a joke", FAQ[0]["question"]]
    assert [g["count"] for g in groups] == [3, 2]
    # At a point of 0 whatever is found answers: both are resolved; resolved stay biggest first.
    assert all(g["resolved"] for g in groups) and summary["resolved"] == 2
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # users' own words


def test_an_unknown_time_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["unanswered", "--out", str(tmp_path / "x.jsonl"), "--since", "yesterday"])
    assert "not an ISO 8601 time: 'yesterday'" in capsys.readouterr().err
