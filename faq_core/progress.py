"""Progress bars that suit where they are written: live on a terminal; in a log file or a pipe,
a plain line every few seconds, never the thousands of '\\r' redraws a terminal bar would leave.

Every loop of ours that shows progress uses `progress_bar`; `route_transformers_bars` sends the
bars transformers draws itself (weights loading, at every model load) the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import IO, Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")

LINE_INTERVAL_S = 5.0
"""Off a terminal, the least time between two lines of one bar."""


class _LogLines(tqdm):
    """A bar as whole lines: one every `mininterval` seconds at most, none for a loop that ends
    sooner, one more at the end once any was written; never a '\\r'."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._last_line = time.monotonic()  # no line before one interval has passed
        self._written_n: float | None = None
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        # tqdm redraws on every refresh (set_postfix too) and clears with msg=''; a log keeps
        # what it was given, so only a due line is written.
        if msg == "" or time.monotonic() - self._last_line < self.mininterval:
            return False
        self._write(str(self) if msg is None else msg)
        return True

    def _write(self, line: str) -> None:
        self.fp.write(line.rstrip() + "\n")
        self.fp.flush()
        self._last_line = time.monotonic()
        self._written_n = self.n

    def close(self) -> None:
        if not self.disable and self._written_n is not None and self._written_n != self.n:
            self._write(str(self))  # how it ended
        super().close()


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def _bar(
    args: tuple[Any, ...], kwargs: dict[str, Any], line_interval_s: float = LINE_INTERVAL_S
) -> tqdm:
    stream = kwargs.pop("file", None) or sys.stderr
    if is_terminal(stream):
        return tqdm(*args, file=stream, **kwargs)
    lines = {"mininterval": line_interval_s, "leave": False, "ascii": True, "dynamic_ncols": False}
    return _LogLines(*args, file=stream, **{**kwargs, **lines})


def progress_bar(
    iterable: Iterable[T] | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    unit: str = "it",
    disable: bool = False,
    file: IO[str] | None = None,
    line_interval_s: float = LINE_INTERVAL_S,
) -> tqdm:
    """A tqdm bar over `iterable` (or updated by hand up to `total`) on `file` (stderr): live
    on a terminal; elsewhere a line every `line_interval_s` seconds at most, and one at the end."""
    kwargs: dict[str, Any] = {"total": total, "desc": desc, "unit": unit, "disable": disable}
    return _bar((iterable,), {**kwargs, "file": file}, line_interval_s)


def route_transformers_bars() -> None:
    """Draw transformers' own bars as `progress_bar` draws ours (idempotent)."""
    from transformers.utils import logging as transformers_logging

    def hook(factory: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not transformers_logging.is_progress_bar_enabled():
            return factory(*args, **kwargs)
        return _bar(args, dict(kwargs))

    transformers_logging.set_tqdm_hook(hook)
