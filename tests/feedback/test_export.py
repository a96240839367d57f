"""faq-feedback export: accepted pairs with the collection's current answers, counted, deduplicated,
in the training data's format; on both store backends, and through the console script."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from faq_core.encoding import encode_entries
from faq_core.entries import ORIGIN_KEY, RUNTIME_ORIGIN, FaqEntry, Phrasing
from faq_core.feedback import FeedbackEvent
from faq_core.records import RecordLog
from faq_core.servable import Servable
from faq_core.settings import Settings
from faq_core.store import AnswerStore, Backend, CollectionLayout, open_backend
from feedback.cli import main
from feedback.export import export_pairs
from tests.support.backends import BACKENDS, make_backend
from training.data import load_feedback_pairs

ENTRIES = {
    name: FaqEntry(answer=answer, question=question, source="test")
    for name, question, answer in [
        ("reset", "how do i reset my password?", "use the reset link on the sign-in page"),
        ("invoice", "can i pay by invoice?", "invoices are available on the business plan"),
        ("card", "which cards do you take?", "we take visa and mastercard"),
        ("refund", "how do refunds work?", "refunds reach your card within 5 days"),
        ("gone", "what is the legacy plan?", "the legacy plan is no longer sold"),
        ("quota", "what are the limits?", "see the quotas page"),
        ("quota2", "how much can i store?", "see the quotas page"),  # same answer, another id
    ]
}


def ids(name: str) -> str:
    return ENTRIES[name].entry_id


# (question, answer, helpful), oldest first.
VERDICTS = [
    ("How do I reset my password?", "reset", True),
    ("how do i  reset my password?", "reset", True),  # the same question and answer again
    ("can i pay later?", "card", False),
    ("can i pay later?", "invoice", True),
    ("when is my money back?", "refund", True),
    ("when is my money back?", "refund", False),  # contested: as many rejections as acceptances
    ("is the old plan still sold?", "gone", True),  # its entry is deleted before the export
    ("what is the storage quota?", "quota", True),
    ("what is the storage quota?", "quota2", True),  # same question, same answer text
]


def record_verdicts(log: RecordLog[FeedbackEvent]) -> None:
    for question, name, helpful in VERDICTS:
        log.append(FeedbackEvent(question=question, answer_id=ids(name), helpful=helpful))


def fill(store: AnswerStore, servable: Servable) -> None:
    store.open(CollectionLayout(servable.dim, servable.model_id), create=True)
    store.upsert(encode_entries(servable, list(ENTRIES.values())))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    backend = make_backend(request.param, tmp_path)
    yield backend
    backend.close()


@pytest.fixture
def store(backend: Backend, servable: Servable) -> Iterator[AnswerStore]:
    store = backend.catalog.store("v1")
    fill(store, servable)
    yield store
    store.close()


EXPECTED_SUMMARY = {
    "collection": "faq",
    "events": 9,
    "accepted": 7,
    "rejected": 2,
    "pairs": 5,
    "contested": 1,
    "answer_missing": 1,
    "duplicates": 1,
    "phrasings": 0,
    "written": 3,
}
EXPECTED_ROWS = [
    {
        "question": "How do I reset my password?",
        "answer": ENTRIES["reset"].answer,
        "source": "test",
        "answer_id": ids("reset"),
        "accepted": 2,
        "rejected": 0,
    },
    {
        "question": "can i pay later?",
        "answer": ENTRIES["invoice"].answer,
        "source": "test",
        "answer_id": ids("invoice"),
        "accepted": 1,
        "rejected": 0,
    },
    {
        "question": "what is the storage quota?",
        "answer": "see the quotas page",
        "source": "test",
        "answer_id": ids("quota"),
        "accepted": 1,
        "rejected": 0,
    },
]


def read_rows(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_writes_the_accepted_pairs_once_with_counts(
    backend: Backend, store: AnswerStore, tmp_path: Path
) -> None:
    log = backend.feedback_log
    record_verdicts(log)
    assert store.delete(ids("gone"))
    out = tmp_path / "exported" / "feedback.jsonl"
    summary = export_pairs(store, log, out, collection="faq").as_dict()
    assert summary == {**EXPECTED_SUMMARY, "out": str(out)}
    assert read_rows(out) == EXPECTED_ROWS
    # The training data's format: faq-train --feedback reads it.
    pairs = load_feedback_pairs([out])
    assert pairs.questions == [row["question"] for row in EXPECTED_ROWS]
    assert pairs.answers == [row["answer"] for row in EXPECTED_ROWS]


def test_export_adds_the_phrasings_added_to_entries_once_each_when_asked(
    backend: Backend, store: AnswerStore, tmp_path: Path, servable: Servable
) -> None:
    record_verdicts(backend.feedback_log)
    accepted = {
        "reset": ["HOW do I reset my password?", "i forgot my password"],  # the first: feedback's
        "card": ["do you accept amex?"],
        "gone": ["old plan?"],  # its entry is deleted before the export
    }
    for name, texts in accepted.items():
        entry = store.get(ids(name))
        assert entry is not None
        vectors = servable.encode(texts)
        store.add_phrasings(
            entry, [(Phrasing(t, True), v) for t, v in zip(texts, vectors, strict=True)]
        )
    assert store.delete(ids("gone"))
    out = tmp_path / "feedback.jsonl"
    plain = export_pairs(store, backend.feedback_log, out, collection="faq").as_dict()
    assert plain == {**EXPECTED_SUMMARY, "out": str(out), "phrasings": 0, "written": 3}
    assert read_rows(out) == EXPECTED_ROWS
    summary = export_pairs(
        store, backend.feedback_log, out, collection="faq", phrasings=True
    ).as_dict()
    assert summary == {**EXPECTED_SUMMARY, "out": str(out), "phrasings": 2, "written": 5}
    rows = read_rows(out)
    assert rows[:3] == EXPECTED_ROWS
    assert sorted((r["question"], r["answer_id"], r["phrasing"]) for r in rows[3:]) == [
        ("do you accept amex?", ids("card"), True),
        ("i forgot my password", ids("reset"), True),
    ]
    assert load_feedback_pairs([out]).questions[3:] == [r["question"] for r in rows[3:]]


def test_export_uses_the_answer_as_the_collection_holds_it_now(
    backend: Backend, store: AnswerStore, servable: Servable, tmp_path: Path
) -> None:
    log = backend.feedback_log
    log.append(FeedbackEvent(question="card types?", answer_id=ids("card"), helpful=True))
    changed = FaqEntry(answer="we take visa, mastercard and amex", id=ids("card"), source="test")
    store.upsert(encode_entries(servable, [changed]))
    export_pairs(store, log, tmp_path / "out.jsonl")
    assert [row["answer"] for row in read_rows(tmp_path / "out.jsonl")] == [changed.answer]


def test_export_without_feedback_writes_an_empty_file(
    backend: Backend, store: AnswerStore, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("stale content\n")
    summary = export_pairs(store, backend.feedback_log, out)
    assert (summary.events, summary.written) == (0, 0)
    assert out.read_text() == ""
    assert load_feedback_pairs([out]).questions == []


# ---- the console script, on the embedded store configured by FAQ_* variables -------------------


@pytest.fixture
def configured(
    tmp_path: Path, servable: Servable, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    monkeypatch.setenv("FAQ_STORE_PATH", str(tmp_path / "store"))
    monkeypatch.setenv("FAQ_COLLECTION", "support")
    monkeypatch.delenv("FAQ_QDRANT_URL", raising=False)
    settings = Settings()
    backend = open_backend(settings)
    version = backend.catalog.new_version()
    store = backend.catalog.store(version)
    fill(store, servable)
    backend.catalog.switch(version)  # as faq-index leaves it
    record_verdicts(backend.feedback_log)
    assert store.delete(ids("gone"))
    store.close()
    backend.close()
    yield settings


def test_cli_export_prints_the_summary_as_json(
    configured: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "feedback.jsonl"
    main(["export", "--out", str(out)])
    summary = json.loads(capsys.readouterr().out)
    assert summary == {**EXPECTED_SUMMARY, "collection": "support", "out": str(out)}
    assert read_rows(out) == EXPECTED_ROWS


def test_cli_export_while_the_embedded_store_is_open_says_why(
    configured: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only one process can open the embedded store: a running faq-serve holds it."""
    catalog = open_backend(configured).catalog
    serving = catalog.store(catalog.live() or "")
    serving.count()  # opens the shard, as faq-serve does
    out = tmp_path / "feedback.jsonl"
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["export", "--out", str(out)])
    finally:
        serving.close()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error: cannot read the accepted answers from collection 'support'" in err
    assert "in use by another process" in err and "stop faq-serve" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_export_keeps_the_entrys_other_fields_for_the_answer_context(
    backend: Backend, store: AnswerStore, servable: Servable, tmp_path: Path
) -> None:
    log = backend.feedback_log
    paged = FaqEntry(
        answer="enter the meeting id",
        source="aws",
        extra={"filename": "chime_faq", ORIGIN_KEY: RUNTIME_ORIGIN},
    )
    store.upsert(encode_entries(servable, [paged]))
    log.append(FeedbackEvent(question="how do i join?", answer_id=paged.entry_id, helpful=True))
    out = tmp_path / "out.jsonl"
    export_pairs(store, log, out)
    (row,) = read_rows(out)
    assert row["filename"] == "chime_faq" and ORIGIN_KEY not in row
    pairs = load_feedback_pairs([out], answer_context=("source", "filename"))
    assert pairs.answers == ["aws chime faq: enter the meeting id"]
