"""What every reader shares: the document it reads, the limits it keeps, what it yields.

A reader turns a document (a file's or a download's bytes, with its name) into items: an entry,
or a problem with where it is. It never stops at a bad item, so that a person fixing a file sees
every bad row at once; it stops only when the document cannot be read at all
(`SourceUnreadable`), or when it is larger than the limits allow, before reading on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from faq_core.entries import FaqEntry, parse_entry
from faq_core.errors import Problem, SourceTooLarge, SourceUnreadable

Item = FaqEntry | Problem


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    QNA_TSV = "tsv"
    XLSX = "xlsx"
    MARKDOWN = "markdown"
    HTML = "html"


@dataclass(frozen=True)
class Limits:
    """How much one input may hold, checked before or while reading it, so that a huge or
    hostile one fails fast with a message instead of taking the machine's memory.

    The command-line defaults fit any real FAQ (the cloud FAQ is 8,500 entries, 5 MB); the
    service's import takes less (`Settings.import_max_bytes`, `import_max_entries`)."""

    max_bytes: int = 256 * 2**20  # the file or download
    max_page_bytes: int = 32 * 2**20  # an HTML or Markdown page: its tree costs ~10x its size
    max_rows: int = 1_000_000  # rows, lines or FAQ items, good and bad
    max_elements: int = 500_000  # HTML elements of one page
    max_unzipped_bytes: int = 256 * 2**20  # an XLSX workbook's parts, all together
    max_zip_ratio: int = 100  # an XLSX part's unpacked size over its packed size
    max_zip_members: int = 10_000
    download_timeout_s: float = 15.0  # connecting, and each wait for more bytes of a URL


@dataclass(frozen=True)
class Document:
    """An input's bytes and what is known about them: `name` is the path or URL to report,
    `media_type` the Content-Type a server or an upload gave (None for a file)."""

    name: str
    data: bytes
    media_type: str | None = None
    base_url: str | None = None  # where relative links of a page point (a URL's own address)

    @property
    def suffix(self) -> str:
        path = self.name.split("?", 1)[0].split("#", 1)[0]
        return PurePath(path).suffix.lower()

    def text(self) -> str:
        """The bytes as UTF-8 (a byte-order mark dropped, as spreadsheets write one); a byte that
        is not UTF-8 is reported with its line."""
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = self.data[: exc.start].count(b"\n") + 1
            raise SourceUnreadable(self.name, f"line {line} is not UTF-8 ({exc.reason})") from exc


class RowCounter:
    """Counts what a reader has read; past `limit` the input is refused, with a message."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count > self.limit:
            raise SourceTooLarge(
                self.name, f"more than {self.limit:,} rows or items: split it into smaller files"
            )


def entry_or_problem(obj: dict[str, Any], where: str, line: int, *, require_question: bool) -> Item:
    """`parse_entry` on a decoded object, its error as a problem at `where`."""
    try:
        return parse_entry(obj, require_question=require_question)
    except ValueError as exc:
        return Problem(where, str(exc), line)


def counted(items: Iterator[Item], counter: RowCounter) -> Iterator[Item]:
    for item in items:
        counter.tick()
        yield item
