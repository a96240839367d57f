"""Which reader reads a document: its name's extension, else the media type a server or an
upload declared, else its first bytes. Two kinds of content override a name, because a reader
given them would only report nonsense: a zip archive is a workbook, and a document that starts
as an HTML page is one (a server's error page behind a .csv URL, say)."""

from __future__ import annotations

from faq_core.errors import SourceUnreadable
from faq_core.sources.base import Document, Format

EXTENSIONS = {
    ".jsonl": Format.JSONL,
    ".ndjson": Format.JSONL,
    ".json": Format.JSONL,
    ".csv": Format.CSV,
    ".tsv": Format.QNA_TSV,
    ".xlsx": Format.XLSX,
    ".md": Format.MARKDOWN,
    ".markdown": Format.MARKDOWN,
    ".html": Format.HTML,
    ".htm": Format.HTML,
    ".xhtml": Format.HTML,
}
MEDIA_TYPES = {
    "text/html": Format.HTML,
    "application/xhtml+xml": Format.HTML,
    "text/markdown": Format.MARKDOWN,
    "text/x-markdown": Format.MARKDOWN,
    "text/csv": Format.CSV,
    "text/tab-separated-values": Format.QNA_TSV,
    "application/x-ndjson": Format.JSONL,
    "application/jsonl": Format.JSONL,
    "application/json": Format.JSONL,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": Format.XLSX,
}
_ZIP = b"PK\x03\x04"
_HTML_STARTS = ("<!doctype html", "<html")


def detect(doc: Document) -> Format:
    sniffed = sniff(doc.data)
    declared = EXTENSIONS.get(doc.suffix) or MEDIA_TYPES.get(_media(doc.media_type))
    if sniffed is Format.XLSX:
        return Format.XLSX
    if declared is Format.XLSX:
        raise SourceUnreadable(doc.name, "not an XLSX workbook (not a zip archive, as one is)")
    if sniffed is Format.HTML and _starts_as_page(doc.data):
        return Format.HTML
    if declared is not None:
        return declared
    if sniffed is not None:
        return sniffed
    if not doc.data.strip():
        return Format.JSONL  # an empty data file: no entries, as before formats were told apart
    raise SourceUnreadable(
        doc.name, "cannot tell its format: name it .jsonl, .csv, .tsv, .xlsx, .md or .html"
    )


def sniff(data: bytes) -> Format | None:
    """The format the first bytes show, when they show one."""
    if data.startswith(_ZIP):
        return Format.XLSX
    head = data[:4096].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    lowered = head.casefold()
    if lowered.startswith(("<!", "<html", "<head", "<body", "<div", "<section", "<main")):
        return Format.HTML
    if head.startswith("{"):
        return Format.JSONL
    first = head.split("\n", 1)[0]
    if "\t" in first and looks_like_qna(first):
        return Format.QNA_TSV
    if "," in first and "answer" in [n.strip().strip('"').casefold() for n in first.split(",")]:
        return Format.CSV
    if head.startswith(("#", "**")):
        return Format.MARKDOWN
    return None


def looks_like_qna(first_line: str) -> bool:
    """A tab-separated header with Question and Answer columns (any case)."""
    names = [n.strip().casefold() for n in first_line.split("\t")]
    return len(names) > 1 and all(n in names for n in ("question", "answer"))


def _starts_as_page(data: bytes) -> bool:
    head = data[:1024].decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n").casefold()
    return head.startswith(_HTML_STARTS)


def _media(media_type: str | None) -> str:
    return (media_type or "").split(";", 1)[0].strip().casefold()
