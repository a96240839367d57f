"""The server backend's failures, translated in one place: callers see StoreUnavailable, never
qdrant-client's or httpx's exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from faq_core.errors import StoreUnavailable


@contextmanager
def translated() -> Iterator[None]:
    """Backend exceptions become StoreUnavailable here, so callers never match on them."""
    try:
        yield
    except UnexpectedResponse as exc:
        raise StoreUnavailable(f"Qdrant answered {exc.status_code}: {exc.reason_phrase}") from exc
    except (ResponseHandlingException, httpx.HTTPError, ConnectionError, TimeoutError) as exc:
        raise StoreUnavailable(f"Qdrant is unreachable: {exc}") from exc
