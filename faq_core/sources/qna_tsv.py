"""QnA Maker and Azure custom question answering exports: tab-separated, a header row of
`Question`, `Answer`, `Source`, `Metadata`, and in newer exports `SuggestedQuestions`,
`IsContextOnly`, `Prompts`, `QnaId`. One row per question: the rows of one QnA pair (same
`QnaId`; in exports without it, the same answer and source) are one entry, the first row's
question its FAQ question, the others its alternate phrasings.

Answers are Markdown with line breaks written as `\\n`: kept as their text, links with their
address. `Metadata` (`key:value|key:value`) becomes payload fields; `Source` the entry's source.
Multi-turn prompts and context-only flags have no counterpart here and are left out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from faq_core.entries import MAX_QUESTIONS, ORIGIN_KEY, RESERVED_KEYS, FaqEntry, Phrasing
from faq_core.errors import DataFileError, Problem
from faq_core.sources.base import Document, Item
from faq_core.sources.markdown import markdown_text

REQUIRED = ("question", "answer")


def read_qna_tsv(doc: Document) -> Iterator[Item]:
    try:
        text = doc.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = doc.data[: exc.start].count(b"\n") + 1
        raise DataFileError(doc.name, line, f"not UTF-8 ({exc.reason})") from exc
    # The export quotes nothing: a cell cannot hold a tab or a line break (answers write \n).
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if header is None:
        return
    names = [n.strip().casefold() for n in header]
    for column in REQUIRED:
        if column not in names:
            raise DataFileError(doc.name, 1, f"the header has no {column.title()!r} column")
    groups: dict[tuple[str, ...], _Pair] = {}
    for number, cells in enumerate(_rows(doc.name, reader), start=2):
        if isinstance(cells, Problem):
            yield cells._replace(where=f"{doc.name}:{number}", line=number)
            break
        where = f"{doc.name}:{number}"
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            yield Problem(
                where, f"the row has {len(cells)} values, the header {len(names)} columns", number
            )
            continue
        row = dict(zip(names, cells, strict=True))
        question, answer = row["question"].strip(), row["answer"].strip()
        if not question or not answer:
            missing = "Question" if not question else "Answer"
            yield Problem(where, f"the row has no {missing}", number)
            continue
        qna_id = row.get("qnaid", "").strip()
        key = ("id", qna_id) if qna_id else ("answer", answer, row.get("source", ""))
        pair = groups.get(key)
        if pair is None:
            groups[key] = _Pair(row, number)
        elif pair.answer != answer:
            yield Problem(where, f"QnaId {qna_id} has another answer on line {pair.line}", number)
        else:
            pair.questions.append(question)
    for pair in groups.values():
        yield pair.entry(doc)


def _rows(name: str, reader: Iterator[list[str]]) -> Iterator[list[str] | Problem]:
    """The rows, then a problem where the file stops being TSV (a cell past the csv module's
    field size limit): the rest is not read."""
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            yield Problem(name, f"invalid TSV: {exc}; the rest of the file was not read")
            return
        if cells is None:
            return
        yield cells


class _Pair:
    def __init__(self, row: dict[str, str], line: int) -> None:
        self.row = row
        self.line = line
        self.answer = row["answer"].strip()
        self.questions = [row["question"].strip()]

    def entry(self, doc: Document) -> Item:
        where = f"{doc.name}:{self.line}"
        questions = list(dict.fromkeys(self.questions))
        if len(questions) > MAX_QUESTIONS:
            return Problem(
                where,
                f"the QnA pair has {len(questions)} questions, more than {MAX_QUESTIONS}",
                self.line,
            )
        try:
            extra = _metadata(self.row.get("metadata", ""))
        except ValueError as exc:
            return Problem(where, str(exc), self.line)
        qna_id = self.row.get("qnaid", "").strip()
        if qna_id:
            extra["qna_id"] = qna_id
        answer = markdown_text(self.answer.replace("\\n", "\n"), doc.base_url)
        source = self.row.get("source", "").strip() or None
        entry = FaqEntry(answer=answer, question=questions[0], source=source, extra=extra)
        return entry.with_phrasings([Phrasing(q) for q in questions[1:]])


def _metadata(cell: str) -> dict[str, Any]:
    """`key:value|key:value` as fields; a key the store owns (`source`, `id`, ...) is refused."""
    fields: dict[str, Any] = {}
    for part in cell.split("|"):
        if not part.strip():
            continue
        key, sep, value = part.partition(":")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"Metadata {part!r} is not key:value")
        if key in RESERVED_KEYS or key == ORIGIN_KEY:
            raise ValueError(f"Metadata key {key!r} is a field of the entry itself")
        fields[key] = value.strip()
    return fields
