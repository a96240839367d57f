"""The export format of `faq-store`: everything a deployment holds, as one JSON Lines stream.

    {"kind": "header", "format": "faq-store", "format_version": 1, "collection", "model_id",
     "dim", "vectors": "float32" | "none", "exported_at"}
    {"kind": "entry", "id", "payload", "vectors": {"answer": b64, "question"?: b64}}
    {"kind": "phrasing", "id", "payload", "vectors": {"question": b64}}
    {"kind": "record", "log": "feedback" | "unanswered" | "reviews" | "rejections", "record"}
    {"kind": "end", "counts": {"entries", "phrasings", "<log>": n, ...}}

Points are written as the store keeps them (id, payload, vectors), so a restore writes the same
points again: the runtime entries keep `origin: "api"`, added phrasings keep their `seq` and
origin. Vectors are little-endian float32, base64: exact, so a restore with the same servable
answers exactly as before and needs no model. A stream without its `end` record was cut short
(an export killed, a connection lost) and is refused as a whole.

One stream rather than a folder or a tar: the running service sends the same bytes over HTTP
(GET /export) as `faq-store export` writes to a file, and `faq-store copy` pipes them straight
into a restore. A file named *.gz is gzip-compressed.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final, Literal, cast

import numpy as np

from faq_core.errors import DataFileError
from faq_core.feedback import FEEDBACK_LOG, FeedbackEvent
from faq_core.records import Record
from faq_core.reviews import REJECTIONS_LOG, REVIEWS_LOG, Rejection, Review
from faq_core.store.base import ANSWER, PHRASING_OF, QUESTION, StoredPoint
from faq_core.unanswered import UNANSWERED_LOG, UnansweredQuestion

FORMAT: Final = "faq-store"
FORMAT_VERSION: Final = 1
# Every record log a deployment keeps beside its collection, by name, in the order exported.
LOGS: dict[str, type[Any]] = {
    FEEDBACK_LOG: FeedbackEvent,
    UNANSWERED_LOG: UnansweredQuestion,
    REVIEWS_LOG: Review,
    REJECTIONS_LOG: Rejection,
}
Vectors = Literal["float32", "none"]


def pack(vector: Any) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def unpack(text: str, dim: int) -> list[float]:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 4 * dim:
        raise ValueError(f"a vector of {len(raw)} bytes, not {dim} float32 numbers")
    return np.frombuffer(raw, dtype="<f4").astype(np.float32).tolist()


@dataclass(frozen=True)
class Header:
    collection: str
    model_id: str
    dim: int
    vectors: Vectors
    exported_at: str  # names the export, with the rest of the header (a restore's mark)

    def line(self) -> bytes:
        return _line(
            {
                "kind": "header",
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "collection": self.collection,
                "model_id": self.model_id,
                "dim": self.dim,
                "vectors": self.vectors,
                "exported_at": self.exported_at,
            }
        )


def point_line(point: StoredPoint, header: Header) -> bytes:
    kind = "phrasing" if PHRASING_OF in point.payload else "entry"
    obj: dict[str, Any] = {"kind": kind, "id": point.id, "payload": point.payload}
    if header.vectors == "float32":
        obj["vectors"] = {name: pack(v) for name, v in sorted(point.vectors.items())}
    return _line(obj)


def record_line(log: str, record: Record) -> bytes:
    return _line({"kind": "record", "log": log, "record": record.to_json()})


def end_line(counts: dict[str, int]) -> bytes:
    return _line({"kind": "end", "counts": counts})


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# ---- reading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointItem:
    point: StoredPoint  # vectors empty when the export has none

    @property
    def is_entry(self) -> bool:
        return PHRASING_OF not in self.point.payload


@dataclass(frozen=True)
class RecordItem:
    log: str
    record: Any


Item = PointItem | RecordItem


def read_stream(lines: Iterable[bytes], where: str) -> tuple[Header, Iterator[Item]]:
    """The header of an export and an iterator over its points and records, each line checked
    as it is read; DataFileError (`where:line: reason`) for a bad line, a stream without its
    `end` record, or counts that do not match it."""
    numbered = enumerate(lines, start=1)
    first = next(numbered, None)
    if first is None:
        raise DataFileError(where, 1, "empty: not a faq-store export")
    header = _header(first[1], where)
    return header, _items(numbered, header, where)


def _header(raw: bytes, where: str) -> Header:
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = None
    if not isinstance(obj, dict) or obj.get("kind") != "header" or obj.get("format") != FORMAT:
        raise DataFileError(where, 1, "not a faq-store export (no faq-store header line)")
    if obj.get("format_version") != FORMAT_VERSION:
        raise DataFileError(
            where,
            1,
            f"format version {obj.get('format_version')!r}: this faq-store reads version "
            f"{FORMAT_VERSION}",
        )
    try:
        header = Header(
            str(obj["collection"]),
            str(obj["model_id"]),
            int(obj["dim"]),
            obj["vectors"],
            str(obj["exported_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFileError(where, 1, f"header lacks {exc}") from None
    if header.vectors not in ("float32", "none") or header.dim < 1:
        raise DataFileError(where, 1, f"header: vectors {header.vectors!r}, dim {header.dim}")
    return header


def _items(numbered: Iterator[tuple[int, bytes]], header: Header, where: str) -> Iterator[Item]:
    counts: dict[str, int] = {}
    number = 1
    for number, raw in numbered:
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            kind = obj.get("kind")
            if kind == "end":
                given = obj.get("counts")
                if not isinstance(given, dict) or {k: n for k, n in given.items() if n} != counts:
                    raise ValueError(f"the end record counts {given}, the stream held {counts}")
                if next(numbered, None) is not None:
                    raise ValueError("lines after the end record")
                return
            item = _item(obj, header)
        except (ValueError, TypeError, KeyError) as exc:
            raise DataFileError(where, number, str(exc)) from None
        if isinstance(item, PointItem):
            key = "entries" if item.is_entry else "phrasings"
        else:
            key = item.log
        counts[key] = counts.get(key, 0) + 1
        yield item
    raise DataFileError(where, number + 1, "cut short: no end record (was the export stopped?)")


def _item(obj: dict[str, Any], header: Header) -> Item:
    kind = obj.get("kind")
    if kind == "record":
        log = obj.get("log")
        if log not in LOGS:
            raise ValueError(f"unknown record log {log!r}")
        return RecordItem(log, LOGS[log].from_json(obj.get("record")))
    if kind not in ("entry", "phrasing"):
        raise ValueError(f"unknown kind {kind!r}")
    pid, payload = obj["id"], obj["payload"]
    if not isinstance(pid, str) or not isinstance(payload, dict):
        raise ValueError("a point needs a string id and an object payload")
    wanted = (QUESTION,) if kind == "phrasing" else (ANSWER,)
    if (kind == "phrasing") != (PHRASING_OF in payload) or (
        kind == "entry" and not isinstance(payload.get("id"), str)
    ):
        raise ValueError(f"a {kind} point with the payload of another kind")
    vectors: dict[str, list[float]] = {}
    if header.vectors == "float32":
        given = obj.get("vectors")
        if not isinstance(given, dict) or any(name not in given for name in wanted):
            raise ValueError(f"a {kind} point without its {' and '.join(wanted)} vector")
        allowed = {QUESTION} if kind == "phrasing" else {ANSWER, QUESTION}
        if set(given) - allowed:
            raise ValueError(f"unknown vectors {sorted(set(given) - allowed)}")
        vectors = {name: unpack(text, header.dim) for name, text in given.items()}
    return PointItem(StoredPoint(pid, payload, vectors))


def lines_of(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a stream that comes in chunks of whole lines (export_stream's)."""
    for chunk in chunks:
        yield from chunk.splitlines(keepends=True)


# ---- files --------------------------------------------------------------------------------


def open_write(path: Path, *, name: Path | None = None) -> IO[bytes]:
    """A file to write an export to; gzip when its name (`name`, else its own: the file may be
    written beside it first) ends in .gz."""
    if (name or path).suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "wb", compresslevel=6))
    return path.open("wb")


def open_read(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    return cast(IO[bytes], gzip.open(path, "rb")) if magic == b"\x1f\x8b" else path.open("rb")
