"""HTTP metrics of every service and the `/metrics` endpoint Prometheus scrapes."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "okno_http_requests_total",
    "HTTP requests served, by service, method, route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "okno_http_request_duration_seconds",
    "Time to serve an HTTP request, by service, method and route template.",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def _route_template(scope: Scope) -> str:
    # Label by template (/agencies/{code}), never by raw path: raw paths explode cardinality.
    # The router records the matched route in the scope it shares with the middleware.
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class MetricsMiddleware:
    """Counts and times every HTTP request (pure ASGI, so streaming responses are timed too)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_template(scope)
            if route != "/metrics":
                method = scope["method"]
                HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
                HTTP_LATENCY.labels(self.service, method, route).observe(
                    time.perf_counter() - started
                )


async def metrics_endpoint(_request: Request) -> Response:
    """Prometheus text exposition of this process's registry."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
