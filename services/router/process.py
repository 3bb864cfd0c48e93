"""Bootstrap of `okno acd`: the router (active or standby) and the call-records writer."""

from __future__ import annotations

import asyncio
import os
import socket

from services.acd.config import RouterConfig
from services.calls.recorder import run_recorder
from services.common.db import check_database, create_engine, session_factory
from services.common.lease import Lease
from services.common.redis_client import check_redis, create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.common.yaml_config import load_yaml_model
from services.router.runner import RouterRunner

LEASE_TTL_MS = 5000


def load_router_config(settings: Settings) -> RouterConfig:
    """The routing policy from OKNO_ROUTER_CONFIG, or the defaults, for this centre.

    Callbacks are off unless the file turns them on: the bridge does not dial callbacks yet,
    and a promise of a call back that nobody makes is worse than self-service."""
    defaults = {
        "centre": settings.centre_id,
        "night": {"timezone": settings.timezone},
        "callbacks": False,
    }
    return load_yaml_model(settings.router_config, RouterConfig, **defaults)


async def run_router(settings: Settings, *, database_url: str, redis_url: str) -> None:
    """Route (while holding the centre's lease) and record calls, until cancelled."""
    config = load_router_config(settings)
    client = create_redis(redis_url)
    engine = create_engine(database_url, pool_size=2)
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    try:
        await check_redis(client, redis_url)
        await check_database(engine)
        streams = Streams(client, settings.stream_prefix())
        lease = Lease(client, streams.key("router-lease"), ttl_ms=LEASE_TTL_MS, holder=consumer)
        runner = RouterRunner(config=config, streams=streams, lease=lease, consumer=consumer)
        async with asyncio.TaskGroup() as group:
            group.create_task(runner.run())
            group.create_task(
                run_recorder(
                    streams, session_factory(engine), consumer=consumer, centre=config.centre
                )
            )
    finally:
        await client.aclose()
        await engine.dispose()
