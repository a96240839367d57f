"""POST /import: an uploaded file read by the same readers as `faq-index --data`
(`faq_core.sources`), its entries checked as POST /answers checks them, then upserted.

Unlike the indexer, which refuses a file with any bad item before writing anything, an import
keeps what it could read and reports the rest, item by item with where it is: a person in the
console fixes those few rows, or a page's odd item, and imports again (re-posting an entry
creates no duplicate).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import NamedTuple

from pydantic import ValidationError

from faq_core.entries import FaqEntry
from faq_core.errors import Problem
from faq_core.settings import Settings
from faq_core.sources import Document, Imported, Limits, import_document
from service.engine import AnswerEngine
from service.schemas import EntryCreate

# Entries per engine.add call: one encode and one upsert each, as a POST /answers of this size.
ADD_BATCH = 256
# Problems a response lists at most (a file can be all bad rows).
MAX_REPORTED = 1000


class ImportResult(NamedTuple):
    imported: Imported
    ids: list[str]
    problems: list[Problem]


def limits_for(settings: Settings) -> Limits:
    page = min(settings.import_max_bytes, Limits().max_page_bytes)
    return Limits(
        max_bytes=settings.import_max_bytes,
        max_page_bytes=page,
        max_rows=settings.import_max_entries,
        max_elements=200_000,
        max_unzipped_bytes=8 * settings.import_max_bytes,
    )


def read_upload(
    data: bytes, filename: str, media_type: str | None, source: str | None, settings: Settings
) -> tuple[Imported, list[FaqEntry], list[Problem]]:
    """Parse the upload (CPU work, run off the event loop) and check every entry against the
    POST /answers schema; returns what to add, and every problem."""
    doc = Document(filename, data, media_type)
    imported = import_document(doc, limits_for(settings), require_question=False, source=source)
    valid: dict[str, FaqEntry] = {}
    problems = list(imported.problems)
    for number, entry in enumerate(imported.entries, start=1):
        reason = _schema_problem(entry)
        if reason is None:
            valid[entry.entry_id] = entry  # a repeated entry is added once, as faq-index does
        else:
            label = f"{filename}: entry {number}"
            named = entry.question or entry.answer
            problems.append(Problem(f"{label} ({named[:60]!r})", reason))
    return imported, list(valid.values()), problems


async def import_upload(
    engine: AnswerEngine,
    data: bytes,
    filename: str,
    media_type: str | None,
    source: str | None,
) -> ImportResult:
    imported, entries, problems = await asyncio.to_thread(
        read_upload, data, filename, media_type, source, engine.settings
    )
    ids: list[str] = []
    for start in range(0, len(entries), ADD_BATCH):
        ids += await engine.add(entries[start : start + ADD_BATCH])
    return ImportResult(imported, ids, problems)


def _schema_problem(entry: FaqEntry) -> str | None:
    """Why POST /answers would refuse this entry (text too long, too many questions), or None."""
    try:
        EntryCreate.model_validate(
            {
                "answer": entry.answer,
                "questions": list(entry.questions) or None,
                "source": entry.source,
                "id": entry.id,
            }
        )
    except ValidationError as exc:
        return "; ".join(_message(e) for e in exc.errors()[:3])
    return None


def _message(error: object) -> str:
    assert isinstance(error, dict)
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"{where}: {error.get('msg', '')}" if where else str(error.get("msg", ""))


def reported(problems: Sequence[Problem]) -> list[Problem]:
    return list(problems[:MAX_REPORTED])
