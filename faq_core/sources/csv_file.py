"""CSV with a header row (`faq_core.sources.table` says which columns). A bad row is a problem at
the line it starts on (a quoted value may span lines); a file that is not CSV past some point
(an unclosed quote) is a problem there, and the rest is not read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from faq_core.errors import DataFileError, Problem
from faq_core.sources.base import Document, Item
from faq_core.sources.table import Row, header_names, read_rows


def read_csv(
    doc: Document, *, require_question: bool = True, delimiter: str = ","
) -> Iterator[Item]:
    try:
        text = doc.data.decode("utf-8-sig")  # a spreadsheet's export may start with a BOM
    except UnicodeDecodeError as exc:
        line = doc.data[: exc.start].count(b"\n") + 1
        raise DataFileError(doc.name, line, f"not UTF-8 ({exc.reason})") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    try:
        first = next(reader, None)
    except csv.Error as exc:
        raise DataFileError(doc.name, reader.line_num, f"invalid CSV: {exc}") from exc
    if first is None:
        return
    try:
        names = header_names(first, require_question=require_question)
    except ValueError as exc:
        raise DataFileError(doc.name, 1, str(exc)) from exc
    failure: list[Problem] = []

    def rows() -> Iterator[Row]:
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader, None)
            except csv.Error as exc:
                failure.append(Problem(f"{doc.name}:{start}", f"invalid CSV: {exc}", start))
                return
            if cells is None:
                return
            yield Row(cells, f"{doc.name}:{start}", start)
            start = reader.line_num + 1

    yield from read_rows(names, rows(), require_question=require_question)
    yield from failure
