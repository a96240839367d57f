"""Reading FAQ entries from where FAQs live: one reader per format, shared by every entry point
(`faq-index --data`, `faq-train --data`, the service's `POST /import`), so that a format is
parsed, validated and reported in one place.

    format                      reader      one entry is
    JSON Lines                  jsonl       a line's object (faq_core.entries.parse_entry)
    CSV, XLSX                   csv_file,   a row: question, answer, source, alternates, ...
                                xlsx        (both through table)
    QnA Maker TSV export        qna_tsv     the rows of one QnA pair
    FAQ web page (file, URL)    html_page   a schema.org Question, a <details>, a <dt>, a
                                            question heading
    Markdown                    markdown    a question heading or bold line, the text under it

Readers yield entries and problems (`faq_core.errors.Problem`: what could not be read, and
where); `read_source` is the strict reading of the command-line tools, `import_document` the
lenient one of the service, which keeps what it could read and reports the rest.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from faq_core.entries import FaqEntry
from faq_core.errors import DataFileError, DataFileProblems, Problem
from faq_core.sources.base import Document, Format, Item, Limits, RowCounter, counted
from faq_core.sources.detect import detect
from faq_core.sources.load import Location, is_url, load, location

DEFAULT_LIMITS = Limits()
# What every --data option takes, for its help.
FORMATS = (
    "JSON Lines, CSV, XLSX, a QnA Maker TSV export, Markdown, or an FAQ page (HTML), "
    "a file or an http(s) URL"
)

__all__ = [
    "DEFAULT_LIMITS",
    "FORMATS",
    "Document",
    "Format",
    "Imported",
    "Limits",
    "Location",
    "import_document",
    "is_url",
    "iter_entries",
    "load",
    "location",
    "read_document",
    "read_entries",
]


def read_document(
    doc: Document,
    limits: Limits = DEFAULT_LIMITS,
    *,
    require_question: bool = True,
    source: str | None = None,
) -> Iterator[Item]:
    """Every entry and problem of `doc`, in its detected format. `source` names the entries of
    a page or Markdown file, which say nothing of their source themselves."""
    fmt = detect(doc)
    counter = RowCounter(doc.name, limits.max_rows)
    if fmt is Format.JSONL:
        from faq_core.sources.jsonl import read_jsonl

        items = read_jsonl(doc, require_question=require_question)
    elif fmt is Format.CSV:
        from faq_core.sources.csv_file import read_csv

        items = read_csv(doc, require_question=require_question)
    elif fmt is Format.QNA_TSV:
        from faq_core.sources.qna_tsv import read_qna_tsv

        items = read_qna_tsv(doc)
    elif fmt is Format.XLSX:
        from faq_core.sources.xlsx import read_xlsx

        items = read_xlsx(doc, limits, require_question=require_question)
    elif fmt is Format.MARKDOWN:
        from faq_core.sources.markdown import read_markdown

        items = read_markdown(doc, limits, source=source)
    else:
        from faq_core.sources.html_page import read_html

        items = read_html(doc, limits, source=source)
    yield from counted(items, counter)


class Imported(NamedTuple):
    format: Format
    entries: list[FaqEntry]
    problems: list[Problem]


def import_document(
    doc: Document,
    limits: Limits = DEFAULT_LIMITS,
    *,
    require_question: bool = True,
    source: str | None = None,
) -> Imported:
    """What `doc` holds, entries and problems apart (the service's import keeps the entries it
    could read and reports the rest)."""
    entries: list[FaqEntry] = []
    problems: list[Problem] = []
    for item in read_document(doc, limits, require_question=require_question, source=source):
        (problems if isinstance(item, Problem) else entries).append(item)  # type: ignore[arg-type]
    return Imported(detect(doc), entries, problems)


def iter_entries(
    location: Location, *, require_question: bool = True, limits: Limits = DEFAULT_LIMITS
) -> Iterator[FaqEntry]:
    """The entries of a file or URL, in order; the first problem raises DataFileError with
    where it is (entries before it are yielded)."""
    doc = load(location, limits)
    for item in read_document(doc, limits, require_question=require_question):
        if isinstance(item, Problem):
            raise DataFileProblems(doc.name, [item])
        yield item


def read_entries(
    location: Location,
    *,
    require_question: bool = True,
    allow_empty: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> list[FaqEntry]:
    """The whole file or page, validated before the caller does anything with it: every item
    that cannot be read is reported at once (DataFileProblems, each with where it is). A file
    without any entry is an error unless `allow_empty`; a page or Markdown file without any
    question always is (NoQuestionsFound): it is not an FAQ."""
    doc = load(location, limits)
    imported = import_document(doc, limits, require_question=require_question)
    if imported.problems:
        raise DataFileProblems(doc.name, imported.problems)
    if not imported.entries and not allow_empty:
        raise DataFileError(doc.name, 0, "no entries")
    return imported.entries
