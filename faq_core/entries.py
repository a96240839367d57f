"""FAQ entries, their deterministic ids, and reading them from data files (JSON Lines or CSV)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faq_core.errors import DataFileError

# Fixed namespaces: the same entry gets the same id on every machine and every run.
_ENTRY_NAMESPACE = uuid.UUID("6f1c3d4e-2a0b-5c9d-8e7f-1a2b3c4d5e6f")
_POINT_NAMESPACE = uuid.UUID("0b7e9a52-4c1d-5f3e-9a8b-7c6d5e4f3a2b")

# Payload keys the store owns; extra fields from a data file may not overwrite them.
RESERVED_KEYS = frozenset({"id", "question", "answer", "source"})
# Payload key marking entries added through the API: a re-index keeps them though no data file
# has them, and drops entries that left the data file.
ORIGIN_KEY = "origin"
RUNTIME_ORIGIN = "api"
# Kept in a CSV row even when empty, so that an empty cell is reported as such.
_TEXT_FIELDS = ("answer", "question")


@dataclass(frozen=True)
class FaqEntry:
    """One FAQ article: an answer, optionally the question it answers, and where it comes from."""

    answer: str
    question: str | None = None
    source: str | None = None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def entry_id(self) -> str:
        """The public id: the given one, else derived from the content (same entry, same id)."""
        if self.id is not None:
            return self.id
        key = "\x1f".join((self.source or "", self.question or "", self.answer))
        return str(uuid.uuid5(_ENTRY_NAMESPACE, key))

    def answer_text(self, context: Sequence[str] = ()) -> str:
        """The text the answer is encoded as: prefixed with the entry's values of the `context`
        fields it has (`AnswerEncoding.context`), e.g. "aws ec2 faqs: <answer>".

        An answer alone often does not name what it is about ("enter the meeting id into the
        device console"); the FAQ page it comes from does.
        """
        labels = [
            _label(self.source if name == "source" else self.extra.get(name)) for name in context
        ]
        prefix = " ".join(label for label in labels if label)
        return f"{prefix}: {self.answer}" if prefix else self.answer

    @property
    def added_at_runtime(self) -> bool:
        return self.extra.get(ORIGIN_KEY) == RUNTIME_ORIGIN

    def payload(self) -> dict[str, Any]:
        """What the store keeps beside the vectors, enough to rebuild the entry."""
        return {
            **self.extra,
            "id": self.entry_id,
            "question": self.question,
            "answer": self.answer,
            "source": self.source,
        }

    def data_line(self) -> dict[str, Any]:
        """The entry as a data file has it (what `parse_entry` reads back), every field of its
        own kept for the answer context; not where it came from (`origin`) nor a derived id."""
        extra = {k: v for k, v in self.extra.items() if k != ORIGIN_KEY}
        return {**extra, "question": self.question, "answer": self.answer, "source": self.source}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> FaqEntry:
        extra = {k: v for k, v in payload.items() if k not in RESERVED_KEYS}
        return cls(
            answer=payload["answer"],
            question=payload.get("question"),
            source=payload.get("source"),
            id=payload["id"],
            extra=extra,
        )


def _label(value: Any) -> str:
    """A field value as words: page names like "premiumsupport_ta-faqs" split at _ and -."""
    if not isinstance(value, str):
        return ""
    return " ".join(value.replace("_", " ").replace("-", " ").split())


def point_id(entry_id: str) -> str:
    """The store's point id for a public id: Qdrant takes only UUIDs and integers."""
    return str(uuid.uuid5(_POINT_NAMESPACE, entry_id))


def _text(obj: dict[str, Any], key: str, *, required: bool) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise ValueError(f"field {key!r} is missing")
        return None
    if not isinstance(value, str):
        raise ValueError(f"field {key!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        if required:
            raise ValueError(f"field {key!r} is empty")
        return None
    return value


def parse_entry(obj: Any, *, require_question: bool) -> FaqEntry:
    """Validate one decoded JSON object; raises ValueError saying what is wrong."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    answer = _text(obj, "answer", required=True)
    assert answer is not None
    entry_id = obj.get("id")
    if entry_id is not None and (not isinstance(entry_id, str) or not entry_id.strip()):
        raise ValueError("field 'id' must be a non-empty string")
    return FaqEntry(
        answer=answer,
        question=_text(obj, "question", required=require_question),
        source=_text(obj, "source", required=False),
        id=entry_id,
        extra={k: v for k, v in obj.items() if k not in RESERVED_KEYS},
    )


def iter_entries(path: Path, *, require_question: bool = True) -> Iterator[FaqEntry]:
    """Yield the entries of a data file; a bad line raises DataFileError naming file and line.

    A `.csv` file is CSV with a header row (`iter_csv_entries`); any other file is JSON Lines, one
    object per line, blank lines skipped. Data files have at least `question` and `answer`.
    """
    if path.suffix.lower() == ".csv":
        yield from iter_csv_entries(path, require_question=require_question)
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise DataFileError(path, 0, f"cannot open: {exc.strerror}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DataFileError(path, number, f"not UTF-8 ({exc.reason})") from exc
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataFileError(path, number, f"invalid JSON: {exc.msg}") from exc
            try:
                yield parse_entry(obj, require_question=require_question)
            except ValueError as exc:
                raise DataFileError(path, number, str(exc)) from exc


def iter_csv_entries(path: Path, *, require_question: bool = True) -> Iterator[FaqEntry]:
    """Yield the entries of a CSV file with a header row: `question`, `answer`, `source` and an
    optional `id`; every other column goes into the payload. A bad row raises DataFileError with
    the line it starts on (a quoted value may span lines).

    CSV has no null: an empty cell is a missing value (an empty `id` means "derive it from the
    content", an empty extra column is left out). Rows with no value at all are skipped.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, 0, f"cannot open: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")  # a spreadsheet's export may start with a BOM
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFileError(path, line, f"not UTF-8 ({exc.reason})") from exc
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise DataFileError(path, reader.line_num, f"invalid CSV: {exc}") from exc
    if header is None:
        return
    names = [name.strip() for name in header]
    required = ("answer", "question") if require_question else ("answer",)
    for name in required:
        if name not in names:
            raise DataFileError(path, 1, f"the header has no {name!r} column")
    if len(set(names)) != len(names) or "" in names:
        raise DataFileError(path, 1, "the header has an empty or repeated column name")
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise DataFileError(path, start, f"invalid CSV: {exc}") from exc
        if row is None:
            return
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise DataFileError(
                path, line, f"the row has {len(row)} values, the header {len(names)} columns"
            )
        obj = {
            name: cell
            for name, cell in zip(names, row, strict=True)
            if cell.strip() or name in _TEXT_FIELDS
        }
        try:
            yield parse_entry(obj, require_question=require_question)
        except ValueError as exc:
            raise DataFileError(path, line, str(exc)) from exc


def read_entries(
    path: Path, *, require_question: bool = True, allow_empty: bool = False
) -> list[FaqEntry]:
    """The whole file, validated before the caller does anything with it. A file without any
    entry is an error unless `allow_empty`."""
    entries = list(iter_entries(path, require_question=require_question))
    if not entries and not allow_empty:
        raise DataFileError(path, 0, "no entries")
    return entries
