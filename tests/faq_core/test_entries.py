"""FAQ entries: deterministic ids, payload round trip, and validated reading of JSON Lines files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from faq_core.entries import (
    ORIGIN_KEY,
    FaqEntry,
    iter_entries,
    parse_entry,
    point_id,
    read_entries,
)
from faq_core.errors import DataFileError


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    """Write raw lines (str as UTF-8, bytes as they are), one per line."""
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    path.write_bytes(data)
    return path


GOOD = json.dumps(
    {"question": "how do i reset it?", "answer": "press the button.", "source": "aws"}
)


# ---- answer context -----------------------------------------------------------------------------


def test_answer_text_puts_the_context_fields_it_has_before_the_answer_as_words() -> None:
    entry = FaqEntry(
        answer="enter the meeting id.", source="aws", extra={"filename": "chime_faq-v2__old"}
    )
    assert entry.answer_text() == "enter the meeting id."
    assert (
        entry.answer_text(("source", "filename")) == "aws chime faq v2 old: enter the meeting id."
    )
    assert entry.answer_text(("filename",)) == "chime faq v2 old: enter the meeting id."
    bare = FaqEntry(answer="enter the meeting id.", extra={"filename": None, "page": 3})
    assert bare.answer_text(("source", "filename", "page", "missing")) == "enter the meeting id."


def test_data_line_is_read_back_as_the_same_entry_without_its_origin() -> None:
    entry = FaqEntry(
        answer="a", question="q?", source="aws", extra={"filename": "f", ORIGIN_KEY: "api"}
    )
    line = entry.data_line()
    assert ORIGIN_KEY not in line and "id" not in line
    again = parse_entry(json.loads(json.dumps(line)), require_question=True)
    assert again == FaqEntry(answer="a", question="q?", source="aws", extra={"filename": "f"})


# ---- ids ----------------------------------------------------------------------------------------


def test_same_content_gives_same_id_and_point_id() -> None:
    a = FaqEntry(answer="press the button.", question="how do i reset it?", source="aws")
    b = FaqEntry(answer="press the button.", question="how do i reset it?", source="aws")
    assert a.entry_id == b.entry_id
    assert point_id(a.entry_id) == point_id(b.entry_id)


@pytest.mark.parametrize(
    "other",
    [
        FaqEntry(answer="press the button.", question="how do i reset it?", source="gcp"),
        FaqEntry(answer="press the button.", question="how do i restart it?", source="aws"),
        FaqEntry(answer="press the other button.", question="how do i reset it?", source="aws"),
        FaqEntry(answer="press the button.", question=None, source="aws"),
    ],
    ids=["source", "question", "answer", "no-question"],
)
def test_any_content_change_gives_a_different_id(other: FaqEntry) -> None:
    base = FaqEntry(answer="press the button.", question="how do i reset it?", source="aws")
    assert other.entry_id != base.entry_id
    assert point_id(other.entry_id) != point_id(base.entry_id)


def test_field_boundaries_are_part_of_the_id() -> None:
    """Moving text between question and answer is another entry, not the same concatenation."""
    a = FaqEntry(answer="b c", question="a")
    b = FaqEntry(answer="c", question="a b")
    assert a.entry_id != b.entry_id


def test_given_id_is_kept_whatever_the_content() -> None:
    a = FaqEntry(answer="one", question="q", id="article-17")
    b = FaqEntry(answer="two", source="azure", id="article-17")
    assert a.entry_id == b.entry_id == "article-17"
    assert a.payload()["id"] == "article-17"


def test_point_id_is_a_uuid_distinct_from_the_public_id() -> None:
    entry = FaqEntry(answer="x", id="not-a-uuid")
    pid = point_id(entry.entry_id)
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", pid)
    assert pid != entry.entry_id


# ---- payload ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [
        FaqEntry(answer="a", question="q", source="ibm", extra={"filename": "f", "rank": 3}),
        FaqEntry(answer="a", question=None, source=None),
        FaqEntry(answer="a", question="q", id="given-id", extra={"tags": ["x", "y"]}),
    ],
    ids=["extra-fields", "answer-only", "given-id"],
)
def test_payload_round_trip_keeps_every_field(entry: FaqEntry) -> None:
    back = FaqEntry.from_payload(entry.payload())
    assert back.answer == entry.answer
    assert back.question == entry.question
    assert back.source == entry.source
    assert back.entry_id == entry.entry_id
    assert back.extra == entry.extra
    # A payload read back always carries its id, so the id no longer depends on the content.
    assert back.id == entry.entry_id


def test_extra_fields_cannot_overwrite_reserved_payload_keys() -> None:
    entry = FaqEntry(
        answer="real",
        question="q",
        source="aws",
        extra={"note": "kept", "answer": "fake", "id": "x"},
    )
    payload = entry.payload()
    assert payload["answer"] == "real"
    assert payload["id"] == entry.entry_id != "x"
    assert payload["note"] == "kept"


# ---- reading files ------------------------------------------------------------------------------


def test_reads_every_entry_with_extra_fields_and_skips_blank_lines(tmp_path: Path) -> None:
    second = {"question": "q2", "answer": "a2", "filename": "page-2"}
    path = write_lines(tmp_path / "data.jsonl", [GOOD, "", "   ", json.dumps(second), ""])
    entries = read_entries(path)
    assert [e.question for e in entries] == ["how do i reset it?", "q2"]
    assert entries[0].source == "aws"
    assert entries[1].source is None
    assert entries[1].extra == {"filename": "page-2"}


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ('{"question": "q", "answer": ', "invalid JSON"),
        ('["question", "answer"]', "expected a JSON object, got list"),
        ('"just a string"', "expected a JSON object, got str"),
        ('{"question": "q"}', "field 'answer' is missing"),
        ('{"question": 42, "answer": "a"}', "field 'question' must be a string, got int"),
        ('{"question": "q", "answer": ["a"]}', "field 'answer' must be a string, got list"),
        ('{"question": "q", "answer": "   \\t "}', "field 'answer' is empty"),
        ('{"question": "q", "answer": ""}', "field 'answer' is empty"),
        ('{"answer": "a"}', "field 'question' is missing"),
        ('{"question": "  ", "answer": "a"}', "field 'question' is empty"),
        ('{"question": "q", "answer": "a", "id": 7}', "field 'id' must be a non-empty string"),
        (b'{"question": "q", "answer": "caf\xe9"}', "not UTF-8"),
    ],
    ids=[
        "invalid-json",
        "list",
        "string",
        "missing-answer",
        "int-question",
        "list-answer",
        "whitespace-answer",
        "empty-answer",
        "missing-question",
        "whitespace-question",
        "int-id",
        "latin-1-bytes",
    ],
)
def test_bad_line_names_file_line_and_reason(
    tmp_path: Path, bad_line: str | bytes, reason: str
) -> None:
    path = write_lines(tmp_path / "data.jsonl", [GOOD, "", GOOD, bad_line, GOOD])
    with pytest.raises(DataFileError, match=re.escape(f"{path}:4: {reason}")) as info:
        read_entries(path)
    assert info.value.path == str(path)
    assert info.value.line == 4


def test_iter_entries_yields_good_lines_before_the_bad_one(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "data.jsonl", [GOOD, GOOD, "{not json"])
    seen = []
    with pytest.raises(DataFileError, match=re.escape(f"{path}:3:")):
        for entry in iter_entries(path):
            seen.append(entry)
    assert len(seen) == 2


def test_require_question_false_accepts_answers_alone(tmp_path: Path) -> None:
    lines = [json.dumps({"answer": "a1"}), json.dumps({"answer": "a2", "question": "  "}), GOOD]
    path = write_lines(tmp_path / "data.jsonl", lines)
    entries = read_entries(path, require_question=False)
    assert [e.question for e in entries] == [None, None, "how do i reset it?"]
    # The same file is refused where a question is required, at the first line without one.
    with pytest.raises(DataFileError, match=re.escape(f"{path}:1: field 'question' is missing")):
        read_entries(path)


def test_missing_file_is_reported_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(DataFileError, match=re.escape(f"{path}:0: cannot open")):
        read_entries(path)


def test_file_without_entries_is_refused_unless_allowed(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "blank.jsonl", ["", "  "])
    with pytest.raises(DataFileError, match=re.escape(f"{path}:0: no entries")):
        read_entries(path)
    assert read_entries(path, allow_empty=True) == []
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert read_entries(tmp_path / "empty.jsonl", allow_empty=True) == []


def test_real_data_file_reads_whole(val_file: Path) -> None:
    entries = read_entries(val_file)
    with val_file.open() as handle:
        expected = sum(1 for line in handle if line.strip())
    assert len(entries) == expected
    assert all(e.question and e.answer and e.source for e in entries)
    assert all("filename" in e.extra for e in entries)
