"""Feedback from the chatbot: which answer a user found helpful or not, kept durably beside the
collection. The service appends to it; `faq-feedback export` reads it. Two backends, chosen by the
answer store's backend:

- embedded store: an append-only JSON Lines file, `<store_path>/<collection>.feedback.jsonl`. It
  sits beside the collection's directory, not in it, because re-indexing for a new servable drops
  and rebuilds that directory, and feedback must outlive the servable it was given to. Appends
  hold a lock (threads and processes) and are flushed and fsync'd before they return.
- Qdrant server: a companion collection `<collection>_feedback` of payload-only points (no
  vectors: the server and qdrant-client's local mode both accept an empty vectors config), written
  with `wait=True` (faq_core/feedback_server.py). Dropping the answer collection leaves it alone.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from faq_core.errors import DataFileError
from faq_core.settings import Settings
from faq_core.store.catalog import Catalog, EdgeCatalog

FEEDBACK_FILE_SUFFIX = ".feedback.jsonl"
FEEDBACK_COLLECTION_SUFFIX = "_feedback"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class FeedbackEvent:
    """One verdict: for `question`, the entry `answer_id` was helpful or not."""

    question: str
    answer_id: str
    helpful: bool
    model_id: str | None = None  # the servable that was answering
    comment: str | None = None
    conversation_id: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=_utc_now)  # UTC, ISO 8601

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, obj: Any) -> FeedbackEvent:
        """Validate one stored event; raises ValueError saying what is wrong."""
        if not isinstance(obj, dict):
            raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
        for key in ("id", "created_at", "question", "answer_id"):
            if not isinstance(obj.get(key), str) or not obj[key]:
                raise ValueError(f"field {key!r} must be a non-empty string")
        if not isinstance(obj.get("helpful"), bool):
            raise ValueError("field 'helpful' must be true or false")
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in obj.items() if k in names})


class FeedbackLog(ABC):
    """Where feedback events are kept. `append` returns once the event is durable."""

    @abstractmethod
    def append(self, event: FeedbackEvent) -> None: ...

    @abstractmethod
    def events(self) -> list[FeedbackEvent]:
        """Every event recorded, oldest first."""


class FileFeedbackLog(FeedbackLog):
    """Append-only JSON Lines; one event a line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # flock alone does not order this process's threads

    def append(self, event: FeedbackEvent) -> None:
        line = (json.dumps(event.to_json(), ensure_ascii=False) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # another process (a second faq-serve) may append
                _drop_torn_tail(fd)
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)  # closing releases the flock
            if created:  # the new file's directory entry must be durable too
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def events(self) -> list[FeedbackEvent]:
        """A last line without its newline is an append in progress (or one a crash cut short,
        never acknowledged): it is not an event yet. Any other bad line is an error."""
        if not self.path.is_file():
            return []
        data = self.path.read_bytes()
        lines = data.split(b"\n")[:-1]  # the part after the last newline is not a whole line
        events = []
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                events.append(FeedbackEvent.from_json(json.loads(raw)))
            except (ValueError, UnicodeDecodeError) as exc:
                raise DataFileError(self.path, number, f"not a feedback event: {exc}") from exc
        return events


def _drop_torn_tail(fd: int) -> None:
    """Cut off a last line that has no newline: a crash interrupted its append before the fsync,
    so it was never acknowledged, and a new line written after it would be corrupted too."""
    size = os.fstat(fd).st_size
    end = size
    while end > 0:
        start = max(0, end - 4096)
        block = os.pread(fd, end - start, start)
        if end == size and block.endswith(b"\n"):
            return
        newline = block.rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return
        end = start
    if size:
        os.ftruncate(fd, 0)


def feedback_log_for(catalog: Catalog, settings: Settings) -> FeedbackLog:
    """The feedback log beside the catalog's collection (all of its versions), on the same
    backend (and client)."""
    if isinstance(catalog, EdgeCatalog):
        return FileFeedbackLog(catalog.root.parent / f"{catalog.name}{FEEDBACK_FILE_SUFFIX}")
    # Imported here: only a server catalog needs qdrant-client (43 MB the embedded service saves).
    from faq_core.feedback_server import QdrantFeedbackLog
    from faq_core.store.server import ServerCatalog

    if isinstance(catalog, ServerCatalog):
        return QdrantFeedbackLog(
            catalog.client, catalog.name, replication_factor=settings.replication_factor
        )
    raise TypeError(f"no feedback log for a {type(catalog).__name__}")
