"""Domain errors raised by the core; the service maps them to HTTP in one place."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple


class FaqError(Exception):
    """Base of every error the core raises on purpose."""


class Problem(NamedTuple):
    """One row or item of an input that could not be read, and where it is."""

    where: str  # "faq.csv:4", "faq.xlsx: sheet FAQ, row 5", "faq.html:40 (/html/body/dl/dt[3])"
    reason: str
    line: int = 0  # the line in the file where there is one, else 0


class DataFileError(FaqError):
    """A data file has a line that cannot be used."""

    def __init__(self, path: Path | str, line: int, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(f"{self.path}:{line}: {reason}")


class DataFileProblems(DataFileError):
    """Items of a data file or page could not be read: every one of them, each with where it is
    (file:line, a spreadsheet row, an HTML element). Its own `path`, `line` and `reason` are the
    first problem's, so a caller that reports one problem reports that one."""

    MAX_LISTED = 20

    def __init__(self, path: Path | str, problems: Sequence[Problem]) -> None:
        first = problems[0]
        super().__init__(path, first.line, first.reason)
        self.problems = list(problems)
        listed = [f"{p.where}: {p.reason}" for p in problems[: self.MAX_LISTED]]
        more = len(problems) - len(listed)
        tail = [f"... and {more} more"] if more else []
        count = f"{len(problems)} items could not be read" if len(problems) > 1 else ""
        head = f"{listed[0]}" + (f" ({count})" if count else "")
        self.args = ("\n  ".join([head, *listed[1:], *tail]),)


class SourceUnreadable(FaqError):
    """A data file, page or upload cannot be read at all: missing, too large, of an unknown
    format, a hostile archive, or a page with no questions. The message says which and why."""

    def __init__(self, location: Path | str, reason: str, message: str | None = None) -> None:
        self.location = str(location)
        self.reason = reason
        super().__init__(message or f"{self.location}: {reason}")


class SourceTooLarge(SourceUnreadable):
    """An input is past a limit (bytes, rows, HTML elements, an archive's unpacked size)."""


class NoQuestionsFound(SourceUnreadable):
    """A file or page holds no FAQ entries in any form the readers know."""

    def __init__(self, location: Path | str, reason: str) -> None:
        super().__init__(location, reason, f"no questions found in {location}: {reason}")


class NothingImported(FaqError):
    """An upload held items, and none of them could be imported: each problem says why."""

    def __init__(self, name: str, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        first = problems[0]
        super().__init__(
            f"nothing imported from {name}: {len(problems)} items could not be read, the first "
            f"at {first.where}: {first.reason}"
        )


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
