"""The shape every Okno HTTP service shares: lifespan, errors, limits, /health and /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import Response

from services.common.db import check_database, create_engine, session_factory
from services.common.limits import BodySizeLimit
from services.common.metrics import (
    MetricsMiddleware,
    has_outbox,
    metrics_endpoint,
    refresh_outbox,
)
from services.common.problems import install_problem_handlers
from services.common.redis_client import check_redis, create_redis
from services.common.runtime import Runtime
from services.common.settings import Settings

_log = structlog.get_logger(__name__)


def create_service_app(
    *,
    name: str,
    title: str,
    settings: Settings,
    database_url: str,
    redis_url: str,
    routers: Sequence[APIRouter],
    description: str = "",
) -> FastAPI:
    """Build a service app; its engine and Redis client are opened in the lifespan, not here."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(database_url)
        client = create_redis(redis_url)
        try:
            await check_database(engine)
            await check_redis(client, redis_url)
            app.state.runtime = Runtime(
                service=name,
                engine=engine,
                sessions=session_factory(engine),
                redis=client,
                signing_secret=settings.signing_secret(),
            )
            app.state.settings = settings
            yield
        finally:
            await client.aclose()
            await engine.dispose()

    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, service=name)
    app.add_route("/metrics", _metrics_route(name, settings), include_in_schema=False)

    @app.get("/health", tags=["operations"], summary="Liveness and dependencies")
    async def health() -> JSONResponse:
        runtime: Runtime = app.state.runtime
        checks: dict[str, Any] = {}
        try:
            await check_database(runtime.engine, within=2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = str(exc)
        try:
            await check_redis(runtime.redis, redis_url, within=2)
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = str(exc)
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "degraded", "service": name, "checks": checks},
            status_code=200 if healthy else 503,
        )

    for router in routers:
        app.include_router(router)
    return app


def _metrics_route(name: str, settings: Settings) -> Callable[[Request], Awaitable[Response]]:
    """`/metrics`; a service with an outbox counts its backlog first (a failed count is logged
    and the scrape still answers, with the previous figures)."""
    if not has_outbox(name):
        return metrics_endpoint

    async def endpoint(request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        try:
            async with asyncio.timeout(2):
                await refresh_outbox(name, runtime.sessions, settings.tz)
        except (TimeoutError, OSError, SQLAlchemyError) as exc:
            _log.warning("outbox backlog not counted", service=name, error=str(exc))
        return await metrics_endpoint(request)

    return endpoint
