"""Rows with a header, as CSV files and spreadsheets have them: `question`, `answer`, `source`, an
optional `id` and optional `alternates` (the question's other phrasings, one a line of the
cell); every other column goes into the payload.

A table has no null: an empty cell is a missing value (an empty `id` means "derive it from the
content", an empty extra column is left out). Rows with no value at all are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from faq_core.entries import CSV_ALTERNATES
from faq_core.errors import Problem
from faq_core.sources.base import Item, entry_or_problem

# Kept in a row even when empty, so that an empty cell is reported as such.
_TEXT_FIELDS = ("answer", "question")


class Row(Sequence[str]):
    """A row's cells and where it is: `where` to report, `line` where the file has lines."""

    def __init__(self, cells: Sequence[str], where: str, line: int = 0) -> None:
        self.cells = list(cells)
        self.where = where
        self.line = line

    def __getitem__(self, index: Any) -> Any:
        return self.cells[index]

    def __len__(self) -> int:
        return len(self.cells)


def header_names(header: Sequence[str], *, require_question: bool) -> list[str]:
    """The column names, checked: a header without the needed columns, or with an empty or
    repeated name, makes the whole file unreadable (every row would be misread): ValueError."""
    names = [cell.strip() for cell in header]
    required = ("answer", "question") if require_question else ("answer",)
    for column in required:
        if column not in names:
            raise ValueError(f"the header has no {column!r} column")
    if len(set(names)) != len(names) or "" in names:
        raise ValueError("the header has an empty or repeated column name")
    return names


def read_rows(
    names: Sequence[str], rows: Iterable[Row], *, require_question: bool
) -> Iterator[Item]:
    """An entry or a problem for every row that has a value."""
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            reason = f"the row has {len(row)} values, the header {len(names)} columns"
            yield Problem(row.where, reason, row.line)
            continue
        obj = {
            name: cell
            for name, cell in zip(names, row, strict=True)
            if cell.strip() or name in _TEXT_FIELDS
        }
        try:
            obj = _alternates(obj)
        except ValueError as exc:
            yield Problem(row.where, str(exc), row.line)
            continue
        yield entry_or_problem(obj, row.where, row.line, require_question=require_question)


def _alternates(obj: dict[str, Any]) -> dict[str, Any]:
    """A row's `alternates` cell (one phrasing a line) as the `questions` after its `question`."""
    alternates = obj.pop(CSV_ALTERNATES, None)
    if alternates is None:
        return obj
    lines = [line for line in alternates.splitlines() if line.strip()]
    question = obj.pop("question", "")
    if not question.strip():
        raise ValueError(f"the row has {CSV_ALTERNATES!r} but no 'question' they rephrase")
    return {**obj, "questions": [question, *lines]}
