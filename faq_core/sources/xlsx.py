"""XLSX workbooks: the first sheet, its first row the header, the same columns as a CSV file
(`faq_core.sources.table`). A bad row is a problem at "sheet S, row N", as a spreadsheet
numbers it.

An XLSX file is a zip archive of XML parts, and a small archive can unpack to gigabytes (a zip
bomb): its directory is checked first, total unpacked size, each part's compression ratio and
the number of parts, before openpyxl opens it. openpyxl reads in read-only mode (row by row,
not the whole sheet in memory) and, with defusedxml installed, refuses XML entity expansion.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import Any

from faq_core.errors import SourceTooLarge, SourceUnreadable
from faq_core.sources.base import Document, Item, Limits
from faq_core.sources.table import Row, header_names, read_rows

# Ratios below this size say nothing: a sheet of one repeated value packs well and is harmless.
_RATIO_FLOOR_BYTES = 1 << 20


def check_archive(doc: Document, limits: Limits) -> None:
    """Refuse an archive that is not a workbook or would unpack past the limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(doc.data))
    except zipfile.BadZipFile as exc:
        reason = f"not an XLSX workbook (not a zip archive: {exc})"
        raise SourceUnreadable(doc.name, reason) from exc
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            limit = limits.max_zip_members
            reason = f"the workbook has {len(members):,} parts, more than {limit:,}"
            raise SourceTooLarge(doc.name, reason)
        if "xl/workbook.xml" not in {m.filename for m in members}:
            raise SourceUnreadable(doc.name, "not an XLSX workbook (it has no xl/workbook.xml)")
        total = sum(m.file_size for m in members)
        if total > limits.max_unzipped_bytes:
            raise SourceTooLarge(
                doc.name,
                f"the workbook unpacks to {total:,} bytes, more than {limits.max_unzipped_bytes:,}",
            )
        for m in members:
            ratio = m.file_size // max(m.compress_size, 1)
            if m.file_size > _RATIO_FLOOR_BYTES and ratio > limits.max_zip_ratio:
                raise SourceTooLarge(
                    doc.name,
                    f"the workbook's part {m.filename} unpacks to {ratio:,} times its packed "
                    f"size, more than {limits.max_zip_ratio}: a zip bomb?",
                )


def read_xlsx(doc: Document, limits: Limits, *, require_question: bool = True) -> Iterator[Item]:
    check_archive(doc, limits)
    from openpyxl import load_workbook  # only a workbook import pays for it

    try:
        book = load_workbook(io.BytesIO(doc.data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise SourceUnreadable(doc.name, f"not a readable XLSX workbook ({exc})") from exc
    try:
        if not book.worksheets:
            raise SourceUnreadable(doc.name, "the workbook has no sheet")
        sheet = book.worksheets[0]
        values = _guarded(doc.name, sheet.iter_rows(values_only=True))
        first = next(values, None)
        if first is None:
            return
        where = f"{doc.name}: sheet {sheet.title!r}, row"
        try:
            # A sheet is as wide as its widest row: the header's empty cells past its last name
            # are no columns.
            names = header_names(
                _padded([_cell(v) for v in first], 0), require_question=require_question
            )
        except ValueError as exc:
            raise SourceUnreadable(doc.name, f"sheet {sheet.title!r}, row 1: {exc}") from exc
        rows = (
            # A sheet's rows may end early (trailing empty cells are not stored): pad them.
            Row(_padded([_cell(v) for v in row], len(names)), f"{where} {number}")
            for number, row in enumerate(values, start=2)
        )
        yield from read_rows(names, rows, require_question=require_question)
    finally:
        book.close()


def _guarded(name: str, rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows; read-only mode parses the sheet's XML as it goes, so a broken or
    hostile part (an undefined or forbidden XML entity) fails here, mid-sheet."""
    while True:
        try:
            row = next(rows, None)
        except Exception as exc:  # openpyxl and the XML parsers raise many kinds
            raise SourceUnreadable(name, f"not a readable XLSX workbook ({exc})") from exc
        if row is None:
            return
        yield row


def _padded(cells: list[str], width: int) -> list[str]:
    while len(cells) > width and not cells[-1].strip():
        cells.pop()
    return cells + [""] * (width - len(cells))


def _cell(value: Any) -> str:
    """A cell as the text a CSV export would hold: numbers without a needless ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
