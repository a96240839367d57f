"""Every error becomes one JSON shape, `{"error": {"code", "message", ...}}`, here and only here.

Domain errors from the core map to their HTTP status; anything unexpected is logged with its
trace and answered with a bare 500 that says nothing of the internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from faq_core.errors import (
    CollectionMissing,
    DataFileError,
    EntryNotFound,
    FaqError,
    FaqQuestionKept,
    ModelMismatch,
    NoQuestionsFound,
    NothingImported,
    NotSuggested,
    Overloaded,
    PhrasingNotFound,
    SourceTooLarge,
    SourceUnreadable,
    StorageFull,
    StoreUnavailable,
    SuggestionNotFound,
    TooManyQuestions,
)

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    409: "conflict",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "overloaded",
    500: "internal",
    503: "unavailable",
    507: "insufficient_storage",
}

# (status, code) for each domain error the routes may raise.
_DOMAIN = {
    EntryNotFound: (404, "entry_not_found"),
    PhrasingNotFound: (404, "phrasing_not_found"),
    FaqQuestionKept: (409, "faq_question"),
    TooManyQuestions: (422, "too_many_questions"),
    SuggestionNotFound: (404, "suggestion_not_found"),
    NotSuggested: (422, "not_in_suggestion"),
    Overloaded: (429, "overloaded"),
    StoreUnavailable: (503, "store_unavailable"),
    StorageFull: (507, "storage_full"),
    CollectionMissing: (503, "collection_missing"),
    ModelMismatch: (503, "model_mismatch"),
    # POST /import: subclasses before their base, the first match wins.
    SourceTooLarge: (413, "payload_too_large"),
    NoQuestionsFound: (422, "no_questions"),
    SourceUnreadable: (422, "unreadable_file"),
    NothingImported: (422, "nothing_imported"),
    DataFileError: (422, "unreadable_file"),
}


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only location, message and type: echoing the input back could be huge or unprintable.
    return [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = _validation_details(exc)
    summary = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5])
    return error_response(
        request, 422, "invalid_request", f"invalid request: {summary}", details=details
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    return error_response(request, exc.status_code, code, str(exc.detail), headers=exc.headers)


async def _on_domain(request: Request, exc: Exception) -> JSONResponse:
    status, code = next(
        (value for kind, value in _DOMAIN.items() if isinstance(exc, kind)), (500, "internal")
    )
    headers = {"Retry-After": str(exc.retry_after_s)} if isinstance(exc, Overloaded) else None
    # A full disk is logged by the store when writes start and stop being refused, not per write.
    if status >= 500 and not isinstance(exc, StorageFull):
        log.warning("%s: %s", code, exc)
    details = (
        [{"where": p.where, "reason": p.reason} for p in exc.problems[:1000]]
        if isinstance(exc, NothingImported)
        else None
    )
    return error_response(request, status, code, str(exc), headers=headers, details=details)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, "internal", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    app.add_exception_handler(FaqError, _on_domain)
    app.add_exception_handler(Exception, _on_unexpected)
