"""XLSX (with its zip-bomb checks), QnA Maker TSV, Markdown, and telling formats apart: real
files of each format, made here with the libraries that write them."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import Workbook

from faq_core.errors import DataFileError, DataFileProblems, SourceTooLarge, SourceUnreadable
from faq_core.sources import Document, Format, Limits, import_document, read_entries
from faq_core.sources.detect import detect


def xlsx(rows: list[list[object]], title: str = "FAQ") -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_rows_read_as_csv_rows_and_bad_rows_name_sheet_and_row(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(
        xlsx(
            [
                ["question", "answer", "source", "alternates", "filename"],
                ["How do I log in?", "Use your email.", "help", "sign in\nlog on", "a.html"],
                ["How many seats?", 25, "help", None, None],
                ["Why is this refused?", None, "help", None, None],
                [None, None, None, None, None],
                ["Is a row past the header's columns refused?", "yes", "help", None, None, "x"],
            ]
        )
    )
    imported = import_document(Document(str(path), path.read_bytes()))
    assert imported.format is Format.XLSX
    first, second = imported.entries
    assert (first.question, first.answer, first.source) == (
        "How do I log in?",
        "Use your email.",
        "help",
    )
    assert [p.text for p in first.phrasings] == ["sign in", "log on"]
    assert first.extra == {"filename": "a.html"}
    assert (second.answer, second.extra) == ("25", {})  # a number as the text a CSV would hold
    assert [(p.where, p.reason) for p in imported.problems] == [
        (f"{path}: sheet 'FAQ', row 4", "field 'answer' is empty"),
        (f"{path}: sheet 'FAQ', row 6", "the row has 6 values, the header 5 columns"),
    ]
    with pytest.raises(DataFileProblems, match=re.escape(f"{path}: sheet 'FAQ', row 4: ")):
        read_entries(path)


def test_xlsx_without_the_needed_columns_is_refused_whole() -> None:
    data = xlsx([["Frage", "Antwort"], ["Wie?", "So."]], title="Tabelle1")
    with pytest.raises(
        SourceUnreadable, match="sheet 'Tabelle1', row 1: the header has no 'answer'"
    ):
        import_document(Document("de.xlsx", data))


def zip_bomb(inflated: int) -> bytes:
    """A workbook-shaped archive whose sheet is `inflated` bytes of spaces: kilobytes packed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * inflated)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_unpacks() -> None:
    bomb = zip_bomb(64 * 2**20)
    assert len(bomb) < 200_000  # 64 MB of sheet in well under 200 KB
    with pytest.raises(
        SourceTooLarge, match=r"sheet1\.xml unpacks to [\d,]+ times its packed size"
    ):
        import_document(Document("bomb.xlsx", bomb))
    # Past the total unpacked size, whatever the ratio.
    with pytest.raises(SourceTooLarge, match="the workbook unpacks to 67,108,8"):
        import_document(Document("big.xlsx", bomb), Limits(max_unzipped_bytes=32 * 2**20))


def _with_sheet_xml(book: bytes, edit: Callable[[str], str]) -> bytes:
    """The workbook with its first sheet's XML changed by `edit`."""
    source = zipfile.ZipFile(io.BytesIO(book))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = edit(data.decode()).encode()
            archive.writestr(info, data)
    return out.getvalue()


LAUGHS = (
    '<!DOCTYPE worksheet [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
)


@pytest.mark.parametrize(
    "edit",
    [
        # XML entities that expand (a "billion laughs"): defusedxml has openpyxl refuse them.
        lambda xml: LAUGHS + xml,
        # An entity never defined, met mid-sheet while read-only mode parses row by row.
        lambda xml: xml.replace(
            "</row></sheetData>",
            '<c r="C2" t="inlineStr"><is><t>&d;</t></is></c></row></sheetData>',
        ),
    ],
    ids=["entity-expansion", "undefined-entity"],
)
def test_a_workbook_with_hostile_xml_is_refused_with_a_message(edit: Callable[[str], str]) -> None:
    book = xlsx([["question", "answer"], ["q?", "a."]])
    with pytest.raises(SourceUnreadable, match="not a readable XLSX workbook"):
        import_document(Document("lol.xlsx", _with_sheet_xml(book, edit)))


def test_a_file_named_xlsx_that_is_no_workbook() -> None:
    with pytest.raises(SourceUnreadable, match="not an XLSX workbook"):
        import_document(Document("faq.xlsx", b"question,answer\nq?,a.\n"))
    not_a_book = io.BytesIO()
    with zipfile.ZipFile(not_a_book, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(SourceUnreadable, match=re.escape("it has no xl/workbook.xml")):
        import_document(Document("faq.xlsx", not_a_book.getvalue()))


QNA_OLD = (
    "Question\tAnswer\tSource\tMetadata\n"
    "How do I reset my PIN?\tCall us on **0800 123**.\tEditorial\tproduct:cards|tier:gold\n"
    "forgot my pin\tCall us on **0800 123**.\tEditorial\tproduct:cards|tier:gold\n"
    "Where is my card?\tIt is posted within 5 days.\tcards.docx\t\n"
    "Who am I?\t\tEditorial\t\n"
    "Can I set an id?\tNo.\tEditorial\tid:7\n"
)


def test_qna_export_without_qna_ids_groups_rows_by_answer_and_reads_metadata() -> None:
    imported = import_document(Document("kb.tsv", QNA_OLD.encode()))
    assert imported.format is Format.QNA_TSV
    pin, card = imported.entries
    assert pin.questions == ("How do I reset my PIN?", "forgot my pin")
    assert (pin.answer, pin.source, pin.extra) == (
        "Call us on 0800 123.",
        "Editorial",
        {"product": "cards", "tier": "gold"},
    )
    assert card.questions == ("Where is my card?",)
    assert [(p.where, p.reason) for p in imported.problems] == [
        ("kb.tsv:5", "the row has no Answer"),
        ("kb.tsv:6", "Metadata key 'id' is a field of the entry itself"),
    ]


def test_a_qna_cell_past_the_field_limit_stops_the_file_there() -> None:
    data = f"Question\tAnswer\nq1?\ta1.\nq2?\t{'x' * 200_000}\nq3?\ta3.\n".encode()
    imported = import_document(Document("kb.tsv", data))
    assert [e.question for e in imported.entries] == ["q1?"]
    assert [(p.where, p.reason) for p in imported.problems] == [
        (
            "kb.tsv:3",
            "invalid TSV: field larger than field limit (131072); the rest of the file was not "
            "read",
        )
    ]


def test_markdown_bold_questions_front_matter_and_problem_lines() -> None:
    text = (
        "---\ntitle: Help\nlayout: page\n---\n"  # front matter: 4 lines, not a question
        "# Help\n\n"
        "**How do I sign up?**\n\nPress *Sign up*.\n\n"
        "**Is it free?**\n\n"
        "## Why is the sky blue?\n\n"
        "Rayleigh scattering: see <https://en.wikipedia.org/wiki/Rayleigh_scattering>.\n\n"
        "<script>alert('x')</script>\n"
    )
    imported = import_document(Document("help.md", text.encode()))
    assert [(e.question, e.answer) for e in imported.entries] == [
        ("How do I sign up?", "Press Sign up."),
        (
            "Why is the sky blue?",
            "Rayleigh scattering: see https://en.wikipedia.org/wiki/Rayleigh_scattering.",
        ),
    ]
    # The bold line with nothing under it, at its line in the file (front matter counted).
    assert [(p.where, p.reason) for p in imported.problems] == [
        ("help.md:11", "the question heading 'Is it free?' has no answer text")
    ]


def test_markdown_q_and_a_labels_and_a_bold_question_with_its_answer_in_the_same_paragraph() -> (
    None
):
    text = (
        "# Frequently Asked Questions (FAQ)\n\n"
        "**Q: How do I start the project locally?**\n"
        "A: See [SETUP.md](./SETUP.md) for step-by-step instructions.\n\n"
        "**Q: What is the project license?**\n"
        "A: See [LICENSE.md](https://example.com/LICENSE.md) for details.\n\n"
        "### Q: How can I contribute to this project?\n"
        "A: Feel free to submit issues and pull requests.\n\n"
        "**Why does it matter?** Because it does.\n"
    )
    entries = import_document(Document("FAQ.md", text.encode())).entries
    assert [(e.question, e.answer) for e in entries] == [
        ("How do I start the project locally?", "See SETUP.md for step-by-step instructions."),
        (
            "What is the project license?",
            "See LICENSE.md (https://example.com/LICENSE.md) for details.",
        ),
        ("How can I contribute to this project?", "Feel free to submit issues and pull requests."),
        ("Why does it matter?", "Because it does."),
    ]


def test_markdown_with_details_blocks_and_json_ld() -> None:
    text = (
        "# FAQ\n\n"
        "<details><summary>Does it run offline?</summary>\n\n"
        "Yes, after the first start.\n\n</details>\n"
        "<details><summary>Which browsers?</summary>\n\nAny recent one.\n\n</details>\n"
    )
    entries = import_document(Document("README.md", text.encode())).entries
    assert [(e.question, e.answer) for e in entries] == [
        ("Does it run offline?", "Yes, after the first start."),
        ("Which browsers?", "Any recent one."),
    ]


@pytest.mark.parametrize(
    ("name", "media_type", "data", "expected"),
    [
        ("faq", None, b'{"question": "q?", "answer": "a."}\n', Format.JSONL),
        ("faq", None, b"question,answer\nq?,a.\n", Format.CSV),
        ("kb", None, b"Question\tAnswer\tSource\nq?\ta.\ts\n", Format.QNA_TSV),
        ("faq", None, b"<!DOCTYPE html><html><body></body></html>", Format.HTML),
        ("faq", None, b"## How?\n\nSo.\n", Format.MARKDOWN),
        ("faq", None, xlsx([["question", "answer"]]), Format.XLSX),
        ("faq.csv", None, xlsx([["question", "answer"]]), Format.XLSX),  # a zip is a workbook
        ("https://ex.com/faq", "text/html; charset=utf-8", b"<p>x</p>", Format.HTML),
        ("https://ex.com/faq.csv", "text/html", b"<!doctype html><p>sign in</p>", Format.HTML),
        ("https://ex.com/faq.md", "text/plain", b"# FAQ", Format.MARKDOWN),
        ("upload", "text/markdown", b"plain words", Format.MARKDOWN),
        ("empty", None, b"", Format.JSONL),
    ],
)
def test_format_from_name_type_and_content(
    name: str, media_type: str | None, data: bytes, expected: Format
) -> None:
    assert detect(Document(name, data, media_type)) is expected


def test_a_file_of_no_known_format_says_which_names_are() -> None:
    with pytest.raises(
        SourceUnreadable, match=re.escape("cannot tell its format: name it .jsonl, .csv")
    ):
        detect(Document("notes", b"just some words\n"))


def test_read_entries_reports_every_bad_row_at_once(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text("question,answer\nq1?,\nq2?,a2.\nq3?,\n,a4.\n")
    with pytest.raises(DataFileProblems) as info:
        read_entries(path)
    error = info.value
    assert (error.path, error.line) == (str(path), 2)  # the first, as DataFileError reports one
    assert [(p.where, p.reason) for p in error.problems] == [
        (f"{path}:2", "field 'answer' is empty"),
        (f"{path}:4", "field 'answer' is empty"),
        (f"{path}:5", "field 'question' is empty"),
    ]
    assert str(error).startswith(f"{path}:2: field 'answer' is empty (3 items could not be read)")


def test_a_file_past_the_size_or_row_limit_fails_fast(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    path.write_text('{"question": "q?", "answer": "a."}\n' * 50)
    with pytest.raises(SourceTooLarge, match="larger than 1,000 bytes"):
        read_entries(path, limits=Limits(max_bytes=1000))
    with pytest.raises(SourceTooLarge, match="more than 20 rows or items: split it"):
        read_entries(path, limits=Limits(max_rows=20))
    assert len(read_entries(path, limits=Limits(max_rows=50))) == 50


def test_a_missing_file_is_a_data_file_error(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=re.escape(f"{tmp_path / 'no.html'}:0: cannot open")):
        read_entries(tmp_path / "no.html")
