"""The app factory. The lifespan loads the servable, opens the store (which must hold a collection
built by that servable), warms the model up, serves, and closes everything on the way out."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from faq_core.settings import Settings
from service.engine import AnswerEngine
from service.errors import install_error_handlers
from service.observability import BodyLimitMiddleware, RequestLogMiddleware, ServiceMetrics
from service.routes import router

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = await asyncio.to_thread(AnswerEngine.open, settings, metrics.batch_size.observe)
        try:
            metrics.track_queue(lambda: engine.batcher.depth)
            metrics.model.info(
                {
                    "model_id": engine.servable.model_id,
                    "collection": settings.collection,
                    "device": str(engine.servable.device),
                    "store": "server" if settings.qdrant_url else "embedded",
                }
            )
            await engine.warm_up()
            app.state.engine = engine
            log.info(
                "serving collection %r with servable %s",
                settings.collection,
                engine.servable.model_id,
            )
            yield
        finally:
            engine.close()

    app = FastAPI(
        title="faq-answers",
        summary="Answers customer questions with the best matching FAQ articles.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.include_router(router)
    install_error_handlers(app)
    # Outermost first: the body limit runs before anything reads the body.
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    return app
