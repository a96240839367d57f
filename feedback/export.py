"""Export the accepted (question, answer) pairs of a collection as training data: the
questions users marked helpful answers to (`POST /feedback`), and the phrasings added to entries
after them (accepted suggestions, `POST /answers/{id}/questions`), which people approved.

The answers are read from the collection as it is now, so an entry deleted since its feedback is
left out and an entry changed since contributes its current text. The export loads no model. The
embedded store can be open in one process only: stop faq-serve before exporting from it (there is
no such limit with a Qdrant server).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from faq_core.entries import FaqEntry, question_key
from faq_core.errors import CollectionMissing, StoreUnavailable
from faq_core.feedback import FeedbackEvent
from faq_core.records import RecordLog
from faq_core.settings import Settings
from faq_core.store import AnswerStore, open_backend


@dataclass(frozen=True)
class ExportSummary:
    collection: str
    out: str
    events: int
    accepted: int  # events with helpful=true
    rejected: int  # events with helpful=false
    pairs: int  # distinct (question, answer id) accepted more often than rejected
    contested: int  # accepted at least once, but rejected as often or more: not written
    answer_missing: int  # pairs whose answer is no longer in the collection: not written
    duplicates: int  # pairs with the same question and answer text as one already written
    phrasings: int  # accepted phrasings written (added to entries after them)
    written: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Key = tuple[str, str]  # (question key, answer id)


def _tally(events: list[FeedbackEvent]) -> tuple[Counter[Key], Counter[Key], dict[Key, str]]:
    """Acceptances and rejections of each (question, answer id), in order of first appearance, and
    the question's wording at its first acceptance."""
    accepted: Counter[Key] = Counter()
    rejected: Counter[Key] = Counter()
    wording: dict[Key, str] = {}
    for event in events:
        key = (question_key(event.question), event.answer_id)
        if event.helpful:
            accepted[key] += 1
            wording.setdefault(key, event.question.strip())
        else:
            rejected[key] += 1
    return accepted, rejected, wording


def export_feedback(settings: Settings, out: Path, *, phrasings: bool = False) -> ExportSummary:
    """`export_pairs` for the configured collection and its feedback log."""
    backend = open_backend(settings)
    try:
        live = backend.catalog.live()
        if live is None:
            raise CollectionMissing(
                f"collection {settings.collection!r} does not exist: run faq-index first"
            )
        store = backend.catalog.store(live)
        try:
            return export_pairs(
                store,
                backend.feedback_log,
                out,
                collection=settings.collection,
                phrasings=phrasings,
            )
        finally:
            store.close()
    finally:
        backend.close()


def export_pairs(
    store: AnswerStore,
    log: RecordLog[FeedbackEvent],
    out: Path,
    *,
    collection: str | None = None,
    phrasings: bool = False,
) -> ExportSummary:
    """Write the accepted pairs of `log`, and with `phrasings` the phrasings added to the entries
    of `store`, to `out` (JSON Lines: question, answer, source, answer_id, and the counts of
    verdicts or `phrasing: true`), replacing it whole, with the answers as `store` holds them now.

    A feedback pair is written when it was accepted more often than rejected, in the order of
    first acceptance; then each phrasing added to an entry. Each question and answer text once.
    Phrasings are left out by default: they answer at once without retraining, and retraining on
    them did not add to that (docs/quality.md, "Retraining on accepted phrasings").
    """
    name = collection or store.name
    events = log.records()
    accepted, rejected, wording = _tally(events)
    winners = [key for key in accepted if accepted[key] > rejected[key]]
    try:
        added = store.added_phrasings() if phrasings else {}
        entries = store.get_many(sorted({answer_id for _, answer_id in winners} | set(added)))
    except StoreUnavailable as exc:
        raise StoreUnavailable(
            f"cannot read the accepted answers from collection {name!r}: {exc}"
        ) from exc

    lines, seen, missing = [], set(), 0

    def write(entry: FaqEntry, question: str, counts: dict[str, Any]) -> bool:
        if (question_key(question), entry.answer) in seen:
            return False
        seen.add((question_key(question), entry.answer))
        row = {**entry.pair_line(question), "answer_id": entry.entry_id, **counts}
        lines.append(json.dumps(row, ensure_ascii=False) + "\n")
        return True

    for key in winners:
        entry = entries.get(key[1])
        if entry is None:
            missing += 1
            continue
        write(entry, wording[key], {"accepted": accepted[key], "rejected": rejected[key]})
    from_feedback = len(lines)
    from_phrasings = sum(
        write(entries[eid], p.text, {"phrasing": True})
        for eid, texts in added.items()
        if eid in entries
        for p in texts
    )
    _write_atomically(Path(out), "".join(lines))
    return ExportSummary(
        collection=name,
        out=str(out),
        events=len(events),
        accepted=sum(e.helpful for e in events),
        rejected=sum(not e.helpful for e in events),
        pairs=len(winners),
        contested=len(accepted) - len(winners),
        answer_missing=missing,
        duplicates=len(winners) - missing - from_feedback,
        phrasings=from_phrasings,
        written=len(lines),
    )


def write_json_lines(path: Path, rows: list[dict[str, Any]], mode: int = 0o644) -> None:
    """One JSON object a line, written atomically."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    _write_atomically(Path(path), text, mode)


def _write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """A reader (faq-train) never sees half a file. `mode`: mkstemp makes it private; training
    data is not a secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
