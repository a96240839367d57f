"""FAQ entries: deterministic ids, payload round trip, and validated reading of JSON Lines files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from faq_core.entries import ORIGIN_KEY, FaqEntry, parse_entry, point_id
from faq_core.errors import DataFileError
from faq_core.sources import iter_entries, read_entries


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


# ---- reading CSV files --------------------------------------------------------------------------


def write_csv(path: Path, text: str) -> Path:
    path.write_bytes(text.encode())
    return path


def test_reads_a_csv_file_with_extra_columns_into_the_payload(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "faq.csv",
        "question,answer,source,id,filename\n"
        'how do i reset it?,"press the button, then wait.",aws,,page-1\n'
        '"two\nlines?","a ""quoted"" answer",,article-7,\n'
        ",,,,\n"
        "answer without filename?,yes.,gcp,,\n",
    )
    entries = read_entries(path)
    assert [e.question for e in entries] == [
        "how do i reset it?",
        "two\nlines?",
        "answer without filename?",
    ]
    first, second, third = entries
    assert first.answer == "press the button, then wait."
    assert (first.source, first.id, first.extra) == ("aws", None, {"filename": "page-1"})
    # An empty id is derived from the content; an empty extra cell is left out.
    plain = FaqEntry("press the button, then wait.", "how do i reset it?", "aws")
    assert first.entry_id == plain.entry_id
    assert (second.answer, second.source, second.id) == ('a "quoted" answer', None, "article-7")
    assert second.extra == {}
    assert "filename" not in third.extra
    assert first.payload()["filename"] == "page-1"


def test_a_csv_file_reads_as_the_same_entries_as_its_json_lines_twin(tmp_path: Path) -> None:
    rows = [
        {"question": "q1?", "answer": "a1", "source": "aws", "filename": "f1"},
        {"question": "q2?", "answer": "a2, with a comma", "source": "ibm", "filename": "f2"},
    ]
    jsonl = write_lines(tmp_path / "faq.jsonl", [json.dumps(r) for r in rows])
    csv_text = "question,answer,source,filename\n" + "".join(
        f'{r["question"]},"{r["answer"]}",{r["source"]},{r["filename"]}\n' for r in rows
    )
    assert read_entries(write_csv(tmp_path / "faq.csv", csv_text)) == read_entries(jsonl)


def test_csv_with_a_byte_order_mark_and_crlf_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffquestion,answer\r\nq?,a.\r\n".encode())
    assert read_entries(path) == [FaqEntry(answer="a.", question="q?")]


@pytest.mark.parametrize(
    ("rows", "line", "reason"),
    [
        ("q?,a.\nq2?,\n", 3, "field 'answer' is empty"),
        ("q?,a.\n   ,a2.\n", 3, "field 'question' is empty"),
        ("q?,a.\nq2?,a2.,extra\n", 3, "the row has 3 values, the header 2 columns"),
        ("q?,a.\nq2?\n", 3, "the row has 1 values, the header 2 columns"),
        ('"multi\nline?",a.\nq2?,"\n', 4, "invalid CSV"),
        ('"multi\nline?",a.\n"x"y,a.\n', 4, "invalid CSV"),
    ],
    ids=[
        "empty-answer",
        "blank-question",
        "too-many-values",
        "too-few-values",
        "unclosed-quote",
        "text-after-quote",
    ],
)
def test_a_bad_csv_row_names_file_line_and_reason(
    tmp_path: Path, rows: str, line: int, reason: str
) -> None:
    path = write_csv(tmp_path / "faq.csv", "question,answer\n" + rows)
    with pytest.raises(DataFileError, match=re.escape(f"{path}:{line}: {reason}")) as info:
        read_entries(path)
    assert info.value.line == line


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("question,text\n", "the header has no 'answer' column"),
        ("answer,source\n", "the header has no 'question' column"),
        ("question,answer,answer\n", "the header has an empty or repeated column name"),
        ("question,answer,\n", "the header has an empty or repeated column name"),
    ],
)
def test_a_csv_header_without_what_is_required_is_refused(
    tmp_path: Path, header: str, reason: str
) -> None:
    path = write_csv(tmp_path / "faq.csv", header + "x,y,z\n")
    with pytest.raises(DataFileError, match=re.escape(f"{path}:1: {reason}")):
        read_entries(path)


def test_csv_without_a_question_column_is_read_where_questions_are_optional(
    tmp_path: Path,
) -> None:
    path = write_csv(tmp_path / "answers.csv", "answer,source\nopen the console.,kb\n")
    assert read_entries(path, require_question=False) == [
        FaqEntry(answer="open the console.", source="kb")
    ]


def test_csv_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(b"question,answer\nq?,a.\nq2?,caf\xe9\n")
    with pytest.raises(DataFileError, match=re.escape(f"{path}:3: not UTF-8")):
        read_entries(path)
