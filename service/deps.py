"""Request dependencies as `Annotated` aliases, so a handler's signature says what it uses.

All are `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hop per
dependency per request that a busy service pays in context switches and GIL handovers.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
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
