"""Durable record logs: append-only logs of small JSON records kept beside a collection (all of
its versions), such as the chatbot's feedback. Each store backend provides one implementation
(`faq_core.store.edge.records`, `faq_core.store.server.records`); a backend's `record_log(name,
record_type)` opens the log called `name` of the configured collection.

What every implementation guarantees:
- `append` returns once the record is durable (it survives the process being killed); on the
  embedded store it refuses with StorageFull, before writing anything, when the disk is short
  of space, like every other write there;
- `records` returns every record appended, oldest first;
- `clear` and `delete_older_than` remove records for good (retention).
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Protocol, Self, TypeVar


def utc_now() -> str:
    """The time now as records keep it: UTC, ISO 8601 with microseconds and a `Z`, so that the
    strings sort in time order."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_record_id() -> str:
    """A record id: a UUID, as a Qdrant server takes for a point id."""
    return str(uuid.uuid4())


def parse_time(value: str) -> datetime:
    """A record's `created_at` as an aware datetime (UTC when it names no zone)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class Record(Protocol):
    """What a record log keeps: a JSON object with a UUID `id` and a `created_at` time."""

    kind: ClassVar[str]  # what one record is, in error messages ("feedback event")

    @property
    def id(self) -> str: ...

    @property
    def created_at(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...

    @classmethod
    def from_json(cls, obj: Any) -> Self:
        """Validate one stored record; raises ValueError saying what is wrong."""
        ...


R = TypeVar("R", bound=Record)


class RecordLog(ABC, Generic[R]):
    """An append-only log of records of one type."""

    location: str  # where the log is kept, for messages: a file path or a collection name

    @abstractmethod
    def append(self, record: R) -> None:
        """Keep `record`; durable when this returns."""

    def append_many(self, records: Sequence[R]) -> None:
        """Keep each of `records`, in order; durable when this returns."""
        for record in records:
            self.append(record)

    @abstractmethod
    def records(self) -> list[R]:
        """Every record kept, oldest first."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every record."""

    @abstractmethod
    def delete_older_than(self, cutoff: datetime) -> int:
        """Remove the records created before `cutoff` (an aware datetime); returns how many."""
