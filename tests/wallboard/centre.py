"""A whole centre for the wallboard tests: fake PBX, bridge, router and HTTP services on loopback,
each process's /metrics on a free port, and simulated traffic through the fake PBX."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ari_bridge.process import run_bridge
from fakepbx.pbx import FakePbx, PbxOptions
from services.acd import events as r
from services.apps import build_app
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.router.process import run_router
from services.router.wire import EVENTS, event_fields
from tests.support.servers import free_port, serve_app

DID = "88005550100"
SPEED = 4.0  # the fake's simulated delays run four times faster than real time
#: HTTP services started beside the router and the bridge (with outbox collectors, and the
#: supervision service that serves the built-in wallboard).
SERVICES = ("supervision", "complaints", "appointments")


@dataclass
class Centre:
    settings: Settings
    pbx: FakePbx
    services: dict[str, str] = field(default_factory=dict)
    router_port: int = 0
    bridge_port: int = 0

    async def tell_router(self, *events: r.Event) -> None:
        client = create_redis(self.settings.redis_url or "")
        try:
            streams = Streams(client, self.settings.stream_prefix())
            for event in events:
                await streams.add(EVENTS, event_fields(event))
        finally:
            await client.aclose()


async def wait_for(check: Callable[[], Awaitable[Any]], within: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``within`` seconds."""
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.1)


@asynccontextmanager
async def _task(coro: Awaitable[None]) -> AsyncIterator[None]:
    task: asyncio.Task[None] = asyncio.ensure_future(coro)
    try:
        yield
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert done, "a centre process did not stop within 10 s of cancellation"
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


@asynccontextmanager
async def running_centre(settings: Settings, tmp_path: Path) -> AsyncIterator[Centre]:
    """Start everything; the centre id is unique so the run has its own streams and lease."""
    async with FakePbx.start(options=PbxOptions(speed=SPEED, default_sound_seconds=1.0)) as pbx:
        for seat in pbx.options.operators:
            pbx.register(seat)
        bridge_config = tmp_path / "bridge.yaml"
        bridge_config.write_text("menus: false\n", encoding="utf-8")
        centre_settings = settings.model_copy(
            update={
                "centre_id": f"wb-{secrets.token_hex(4)}",
                "ari_url": f"{pbx.ari_url}/ari",
                "ami_port": pbx.ami_port,
                "bridge_config": bridge_config,
            }
        )
        centre = Centre(centre_settings, pbx, router_port=free_port(), bridge_port=free_port())
        database_url, redis_url = settings.database_url or "", settings.redis_url or ""
        async with AsyncExitStack() as stack:
            for name in SERVICES:
                app = build_app(
                    name, centre_settings, database_url=database_url, redis_url=redis_url
                )
                centre.services[name] = await stack.enter_async_context(serve_app(app))
            router = run_router(
                centre_settings,
                database_url=database_url,
                redis_url=redis_url,
                metrics_port=centre.router_port,
            )
            await stack.enter_async_context(_task(router))
            bridge = run_bridge(centre_settings, redis_url, metrics_port=centre.bridge_port)
            await stack.enter_async_context(_task(bridge))
            yield centre


async def simulate_traffic(centre: Centre) -> None:
    """Two operators answer five callers (three wait in line), one caller gives up, and a call
    for a topic nobody here staffs overflows to a neighbour that advertises a short wait."""
    pbx = centre.pbx
    for seat in ("op1001", "op1002"):
        pbx.set_operator(seat, answers_after=0.5, hangs_up_after=3.0)
    await centre.tell_router(
        r.NeighbourStatus("neighbour", {"housing": 5.0}),
        *(r.AgentLoggedIn(agent, {"general": 3}, {"ru": 5}) for agent in ("1001", "1002")),
        *(r.AgentReady(agent) for agent in ("1001", "1002")),
    )
    calls = [pbx.control.inject_call(did=DID, caller=f"+7913000000{n}") for n in range(1, 6)]
    quitter = pbx.control.inject_call(did=DID, caller="+79130000009")
    await asyncio.sleep(0.5)
    pbx.control.hangup_handset(quitter.handset_id)
    await centre.tell_router(
        r.CallArrived(f"overflow-{secrets.token_hex(3)}", centre.settings.centre_id, "housing")
    )
    assert len(calls) == 5
