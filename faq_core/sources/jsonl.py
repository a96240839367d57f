"""JSON Lines: one object per line (`faq_core.entries.parse_entry` says what one holds); blank
lines are skipped. Each bad line is a problem at its line number."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from faq_core.errors import Problem
from faq_core.sources.base import Document, Item, entry_or_problem


def read_jsonl(doc: Document, *, require_question: bool = True) -> Iterator[Item]:
    yield from read_jsonl_lines(doc.name, doc.data.splitlines(), require_question=require_question)


def read_jsonl_lines(
    name: str, lines: Iterable[bytes], *, require_question: bool = True
) -> Iterator[Item]:
    for number, raw in enumerate(lines, start=1):
        where = f"{name}:{number}"
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield Problem(where, f"not UTF-8 ({exc.reason})", number)
            continue
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(where, f"invalid JSON: {exc.msg}", number)
            continue
        except RecursionError:
            yield Problem(where, "invalid JSON: nested too deep", number)
            continue
        if not isinstance(obj, dict):
            yield Problem(where, f"expected a JSON object, got {type(obj).__name__}", number)
            continue
        yield entry_or_problem(obj, where, number, require_question=require_question)
