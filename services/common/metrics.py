"""HTTP metrics of every service, the `/metrics` endpoint Prometheus scrapes, a bare metrics
server for processes without an HTTP app, and the outbox backlog counted at scrape time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
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
_log = structlog.get_logger(__name__)


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
            if route != "/metrics" and scope.get("path") != "/metrics":  # scrapes are not traffic
                method = scope["method"]
                HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
                HTTP_LATENCY.labels(self.service, method, route).observe(
                    time.perf_counter() - started
                )


async def metrics_endpoint(_request: Request) -> Response:
    """Prometheus text exposition of this process's registry."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


Render = Callable[[], Awaitable[bytes]]


async def start_metrics_server(host: str, port: int, render: Render) -> asyncio.Server | None:
    """Serve `GET /metrics` for a process that has no HTTP app (router, bridge).

    A plain asyncio server, so that rendering runs in the process's own event loop next to
    the state it reads. A port already taken is logged and skipped: routing calls matters more
    than being scraped."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(10):
                request = await reader.readuntil(b"\r\n\r\n")
                method, _, rest = request.partition(b" ")
                path = rest.partition(b" ")[0].partition(b"?")[0]
                if method == b"GET" and path == b"/metrics":
                    status, body, kind = b"200 OK", await render(), CONTENT_TYPE_LATEST.encode()
                else:
                    status, body, kind = b"404 Not Found", b"not found\n", b"text/plain"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\nContent-Type: " + kind
                    + b"\r\nContent-Length: " + str(len(body)).encode()
                    + b"\r\nConnection: close\r\n\r\n" + body
                )  # fmt: skip
                await writer.drain()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    try:
        return await asyncio.start_server(handle, host, port)
    except OSError as exc:
        _log.error("metrics not served: port unavailable", port=port, error=str(exc))
        return None


OUTBOX = Gauge(
    "okno_outbox_messages",
    "Messages of a service's outbox by state: pending (to send) and dead (gave up, need a person).",
    ["service", "state"],
)
_OUTBOX_SQL = {
    "complaints": text(
        "SELECT state, count(*) FROM complaint_outbox WHERE state <> 'delivered' GROUP BY state"
    ),
    # Reminders are the appointments' outbox: due ones (tomorrow's visits) not sent yet.
    # A failed send is retried next round and never given up, so there are no dead letters.
    "appointments": text(
        "SELECT 'pending', count(*) FROM appointment_bookings WHERE status = 'booked'"
        " AND consent_at IS NOT NULL AND starts_at >= :start AND starts_at < :end"
        " AND ((citizen_phone IS NOT NULL AND sms_reminder_at IS NULL)"
        " OR (citizen_email IS NOT NULL AND email_reminder_at IS NULL))"
    ),
}


def has_outbox(service: str) -> bool:
    """Whether `service` has an outbox whose backlog its /metrics reports."""
    return service in _OUTBOX_SQL


async def refresh_outbox(
    service: str, sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo
) -> None:
    """Count the outbox at scrape time (one small query), so the figure is never stale."""
    local = datetime.now(tz)
    start = datetime.combine(local.date() + timedelta(days=1), clock_time(), tzinfo=tz)
    counts = {"pending": 0, "dead": 0}
    async with sessions() as session:
        rows = await session.execute(
            _OUTBOX_SQL[service], {"start": start, "end": start + timedelta(days=1)}
        )
        for state, count in rows.all():
            counts[str(state)] = int(count)
    for state, count in counts.items():
        OUTBOX.labels(service, state).set(count)
