"""The app factory. The lifespan loads the servable, opens the live collection version (which must
have been built by that servable; an empty one is created when the collection has none), warms
the model up, watches the store while serving, and closes everything on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from faq_core.settings import Settings
from service import heap
from service.console import install_console
from service.engine import AnswerEngine, Generation
from service.errors import install_error_handlers
from service.observability import BodyLimitMiddleware, RequestLogMiddleware, ServiceMetrics
from service.routes import router

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> FastAPI:
    metrics = ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        def on_generation(generation: Generation) -> None:
            metrics.model.info(
                {
                    "model_id": generation.servable.model_id,
                    "collection": settings.collection,
                    "index_version": generation.version,
                    "device": str(generation.servable.device),
                    "store": "server" if settings.qdrant_url else "embedded",
                }
            )

        engine = await asyncio.to_thread(
            AnswerEngine.open,
            settings,
            metrics.batch_size.observe,
            on_generation,
            lambda outcome, n: metrics.unanswered_records.labels(outcome=outcome).inc(n),
        )
        watcher = None
        try:
            metrics.track_queue(lambda: engine.batcher.depth)
            metrics.track_store_space(engine.backend)
            await engine.warm_up()
            heap.settle()
            app.state.engine = engine
            watcher = asyncio.create_task(engine.watch(), name="store-watcher")
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
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
    install_console(app)
    install_error_handlers(app)
    # Outermost first: the body limit runs before anything reads the body.
    app.add_middleware(RequestLogMiddleware, metrics=metrics)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        per_path={"/import": settings.import_max_bytes},
    )
    return app
