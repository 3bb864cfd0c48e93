"""Bootstrap of `okno acd`: the router (active or standby), the call-records writer and the
callbacks writer."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable

import structlog

from services.acd.config import RouterConfig
from services.acd.events import Event
from services.callbacks.recorder import run_callbacks_recorder
from services.callbacks.resume import pending_callback_events
from services.calls.recorder import run_recorder
from services.common.db import check_database, create_engine, session_factory
from services.common.lease import Lease
from services.common.metrics import start_metrics_server
from services.common.redis_client import check_redis, create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.common.yaml_config import load_yaml_model
from services.router.exporter import RouterExporter
from services.router.live import live_key
from services.router.runner import RouterRunner

LEASE_TTL_MS = 5000
_log = structlog.get_logger(__name__)
#: The router's /metrics port: `base_port + METRICS_PORT_OFFSET` unless given.
METRICS_PORT_OFFSET = 90


def load_router_config(settings: Settings) -> RouterConfig:
    """The routing policy from OKNO_ROUTER_CONFIG, or the defaults, for this centre."""
    defaults = {"centre": settings.centre_id, "night": {"timezone": settings.timezone}}
    return load_yaml_model(settings.router_config, RouterConfig, **defaults)


async def keep_running(
    name: str, writer: Callable[[], Awaitable[None]], *, pause_s: float = 5.0
) -> None:
    """Run a records writer for ever: an error it did not expect is logged and the writer
    starts again (it resumes from its consumer group), instead of taking routing down with it.
    Entries stay pending meanwhile, so nothing is lost."""
    while True:
        try:
            await writer()
        except Exception:
            _log.exception("records writer failed; restarting", writer=name, pause_s=pause_s)
        await asyncio.sleep(pause_s)


async def run_router(
    settings: Settings, *, database_url: str, redis_url: str, metrics_port: int | None = None
) -> None:
    """Route (while holding the centre's lease) and record calls and callbacks, until
    cancelled; serve `/metrics` on `metrics_port` (default `base_port + 90`; 0 = not served)."""
    config = load_router_config(settings)
    client = create_redis(redis_url)
    engine = create_engine(database_url, pool_size=4)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    server: asyncio.Server | None = None
    try:
        await check_redis(client, redis_url)
        await check_database(engine)
        streams = Streams(client, settings.stream_prefix())
        lease = Lease(client, streams.key("router-lease"), ttl_ms=LEASE_TTL_MS, holder=consumer)
        sessions = session_factory(engine)

        async def resume() -> list[Event]:
            async with sessions() as session:
                return list(await pending_callback_events(session, config.centre))

        runner = RouterRunner(
            config=config,
            streams=streams,
            lease=lease,
            consumer=consumer,
            live_key=live_key(settings.stream_prefix()),
            resume=resume,
        )
        if metrics_port is None:
            metrics_port = settings.base_port + METRICS_PORT_OFFSET
        if metrics_port:
            exporter = RouterExporter(runner, streams)
            server = await start_metrics_server(settings.host, metrics_port, exporter.render)
        async with asyncio.TaskGroup() as group:
            group.create_task(runner.run())
            group.create_task(
                keep_running(
                    "call records",
                    lambda: run_recorder(
                        streams, sessions, consumer=consumer, centre=config.centre
                    ),
                )
            )
            group.create_task(
                keep_running(
                    "callbacks",
                    lambda: run_callbacks_recorder(
                        streams, sessions, consumer=consumer, centre=config.centre
                    ),
                )
            )
    finally:
        if server is not None:
            server.close()
        await client.aclose()
        await engine.dispose()
