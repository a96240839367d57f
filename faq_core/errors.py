"""Domain errors raised by the core; the service maps them to HTTP in one place."""

from __future__ import annotations

from pathlib import Path


class FaqError(Exception):
    """Base of every error the core raises on purpose."""


class DataFileError(FaqError):
    """A data file has a line that cannot be used."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}:{line}: {reason}")


class ServableError(FaqError):
    """The servable directory is missing, incomplete or names classes we do not trust."""


class StoreUnavailable(FaqError):
    """The vector store cannot be reached or did not answer in time."""


class StorageFull(FaqError):
    """The disk holding the embedded store is short of space: a write was refused before it
    reached the store. Reads go on; writes are taken again once space is freed."""

    def __init__(self, path: Path | str, free_bytes: int, why: str) -> None:
        self.path = str(path)
        self.free_bytes = free_bytes
        super().__init__(
            f"disk full: the filesystem holding {self.path} has {free_bytes / 2**20:.1f} MB free, "
            f"{why}; writes are refused until space is freed, reads go on"
        )


class CollectionMissing(FaqError):
    """The collection has not been created yet: run the indexer first."""


class ModelMismatch(FaqError):
    """The collection's vectors were built by another servable than the one loaded."""


class EntryNotFound(FaqError):
    """No entry has the given id."""

    def __init__(self, entry_id: str) -> None:
        self.entry_id = entry_id
        super().__init__(f"no FAQ entry has id {entry_id!r}")


class PhrasingNotFound(FaqError):
    """The entry has no alternate phrasing like this."""

    def __init__(self, entry_id: str, question: str) -> None:
        super().__init__(f"FAQ entry {entry_id!r} has no alternate phrasing {question!r}")


class FaqQuestionKept(FaqError):
    """A request would remove an entry's own FAQ question, which only editing the entry changes."""

    def __init__(self, entry_id: str, question: str) -> None:
        super().__init__(
            f"{question!r} is the FAQ question of entry {entry_id!r}, not an alternate phrasing: "
            "post the entry again to change it"
        )


class TooManyQuestions(FaqError):
    """An entry would have more questions than it may (`faq_core.entries.MAX_QUESTIONS`)."""

    def __init__(self, entry_id: str, having: int, adding: int, limit: int) -> None:
        super().__init__(
            f"FAQ entry {entry_id!r} has {having} questions; {adding} more would pass the limit "
            f"of {limit} questions an entry"
        )


class SuggestionNotFound(FaqError):
    """No open suggestion has this id (decided meanwhile, or the traffic regrouped it)."""

    def __init__(self, suggestion_id: str) -> None:
        super().__init__(
            f"no open suggestion has id {suggestion_id!r}: it was decided, or new traffic "
            "regrouped it; list the suggestions again"
        )


class NotSuggested(FaqError):
    """A request names questions a suggestion does not hold."""

    def __init__(self, suggestion_id: str, questions: list[str]) -> None:
        super().__init__(f"suggestion {suggestion_id!r} does not hold {questions[:3]!r}")


class Overloaded(FaqError):
    """Too many questions are waiting for the model; the caller should retry shortly."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"the service is overloaded; retry in {retry_after_s} s")


class StoreNotEmpty(FaqError):
    """A restore was asked into a store that holds something (or an interrupted restore of
    another export), and was not told to replace it."""
