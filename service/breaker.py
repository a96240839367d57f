"""A circuit breaker for the store: after a failure, requests fail at once for a while."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from faq_core.errors import StoreUnavailable

P = ParamSpec("P")
T = TypeVar("T")


class StoreBreaker:
    """After a store failure, requests fail at once for `cooldown_s` rather than each waiting
    for the store's timeout; the first request after that (or the watcher) tries again."""

    def __init__(self, cooldown_s: float) -> None:
        self.cooldown_s = cooldown_s
        self._open_until = 0.0
        self.reason = ""

    def check(self) -> None:
        if time.monotonic() < self._open_until:
            raise StoreUnavailable(self.reason)

    def failed(self, exc: Exception) -> None:
        self.reason = str(exc)
        self._open_until = time.monotonic() + self.cooldown_s

    def succeeded(self) -> None:
        self._open_until = 0.0

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(...)`, a store call: its StoreUnavailable opens the breaker, its answer closes it."""
        try:
            result = fn(*args, **kwargs)
        except StoreUnavailable as exc:
            self.failed(exc)
            raise
        self.succeeded()
        return result
