"""Request dependencies as `Annotated` aliases, so a handler's signature says what it uses.

All are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per
dependency per request that a busy service pays in context switches and GIL handovers.
"""

from __future__ import annotations

import hmac
from collections import Counter
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from faq_core.settings import Settings
from service.engine import AnswerEngine
from service.observability import ServiceMetrics

_bearer = HTTPBearer(
    auto_error=False, description="required on write endpoints when FAQ_API_KEY is set"
)


async def get_engine(request: Request) -> AnswerEngine:
    engine: AnswerEngine = request.app.state.engine
    return engine


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_metrics(request: Request) -> ServiceMetrics:
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(route: APIRoute) -> frozenset[str]:
    """The query parameters `route` declares, its dependencies' included (once per route)."""
    names = _QUERY_NAMES.get(id(route))
    if names is None:
        found: set[str] = set()
        dependants = [route.dependant]
        while dependants:
            dependant = dependants.pop()
            found.update(param.alias for param in dependant.query_params)
            dependants.extend(dependant.dependencies)
        names = _QUERY_NAMES[id(route)] = frozenset(found)
    return names


async def strict_query(request: Request) -> None:
    """The query holds only the parameters the route declares, each at most once: an unknown
    one (a typo) or a repeated one (`?source=a&source=b`) is refused (422) rather than silently
    ignored or half taken. No endpoint takes a list in its query. On the routes that take query
    parameters (`StrictQuery`); `/ask` takes none and pays nothing for it."""
    params = request.query_params
    if not params:
        return
    route = request.scope.get("route")
    allowed = _query_names(route) if isinstance(route, APIRoute) else frozenset()
    counts = Counter(name for name, _ in params.multi_items())
    errors = [
        {"loc": ("query", name), "msg": "given more than once", "type": "repeated"}
        for name, n in sorted(counts.items())
        if n > 1
    ] + [
        {"loc": ("query", name), "msg": "not a parameter of this endpoint", "type": "unknown"}
        for name in sorted(counts.keys() - allowed)
    ]
    if errors:
        raise RequestValidationError(errors)


StrictQuery = Depends(strict_query)
EngineDep = Annotated[AnswerEngine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]


async def require_write_key(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With FAQ_API_KEY set, writes need `Authorization: Bearer <key>` (constant-time check)."""
    if settings.api_key is None:
        return
    expected = settings.api_key.get_secret_value().encode()
    given = credentials.credentials.encode() if credentials is not None else b""
    if not hmac.compare_digest(given, expected):
        raise HTTPException(
            status_code=401,
            detail="a valid API key is required: send Authorization: Bearer <key>",
            headers={"WWW-Authenticate": "Bearer"},
        )


WriteAccess = Depends(require_write_key)
# Users' own words (the unanswered log) are read with the same key as writes.
PrivateRead = Depends(require_write_key)
