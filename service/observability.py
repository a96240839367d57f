"""Prometheus metrics, one log line per request with a request id, and the request body limit."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faq_core.store import Backend

log = logging.getLogger("faq.requests")

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
_CONFIDENCE_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


class ServiceMetrics:
    """The service's own registry (not the process-global one), so each app has its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "faq_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "faq_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "faq_encode_batch_size",
            "texts encoded per model call",
            buckets=_BATCH_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "faq_encode_queue_depth", "encode jobs waiting", registry=self.registry
        )
        self.feedback = Counter(
            "faq_feedback", "feedback events recorded", ["helpful"], registry=self.registry
        )
        self.answered = Counter(
            "faq_answered",
            "questions asked, by whether they were answered and why not",
            ["answered", "reason"],
            registry=self.registry,
        )
        self.confidence = Histogram(
            "faq_answer_confidence",
            "confidence in the first entry found for a question",
            buckets=_CONFIDENCE_BUCKETS,
            registry=self.registry,
        )
        self.unanswered_records = Counter(
            "faq_unanswered_records",
            "unanswered questions kept in the log (written) or lost (dropped: queue full or the "
            "log failed)",
            ["outcome"],
            registry=self.registry,
        )
        self.model = Info(
            "faq_model", "servable and collection being served", registry=self.registry
        )

    def track_queue(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(depth)

    def track_store_space(self, backend: Backend) -> None:
        self.registry.register(StoreSpaceCollector(backend))


class StoreSpaceCollector(Collector):
    """The store's disk, read at each scrape: free bytes (embedded store only) and the writes
    refused for want of space."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def collect(self) -> Iterator[Metric]:
        free = self.backend.free_bytes()
        if free is not None:
            yield GaugeMetricFamily(
                "faq_store_free_bytes", "free space on the embedded store's disk", value=free
            )
        yield CounterMetricFamily(
            "faq_writes_refused",
            "writes refused (507) because the store's disk was short of space",
            value=self.backend.writes_refused,
        )


class RequestLogMiddleware:
    """Gives each request an id (X-Request-ID, taken from the client when it sends one), records
    its latency and status in the metrics, and logs one JSON line for it."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _client_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            labels = (scope["method"], template, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(elapsed)
            log.info(
                json.dumps(
                    {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": template,
                        "status": status,
                        "ms": round(elapsed * 1000, 2),
                    }
                )
            )


def _client_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            # Only a plain token goes into our logs and headers.
            if 0 < len(text) <= 64 and all(c.isalnum() or c in "-_." for c in text):
                return text
    return None


class BodyLimitMiddleware:
    """Refuses request bodies over `max_bytes` with 413 before they are read whole; the paths
    in `per_path` have their own limit (POST /import takes whole files)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, per_path: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.per_path = per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.per_path.get(scope.get("path", ""), self.default_max_bytes)
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await _too_large(send, max_bytes)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLarge:
            await _too_large(send, max_bytes)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps(
        {"error": {"code": "payload_too_large", "message": f"request body over {max_bytes} bytes"}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
