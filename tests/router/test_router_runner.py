"""The router process over real Redis: commands out, restart and takeover without loss."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from services.acd import events as r
from services.acd.config import RouterConfig
from services.acd.schedule import NightSchedule
from services.common.lease import Lease
from services.common.redis_client import create_redis
from services.common.streams import Streams
from services.router.runner import RouterRunner
from services.router.wire import COMMANDS, EVENTS, ROUTER_LOG, command_from_fields, event_fields

pytestmark = pytest.mark.integration

CONFIG = RouterConfig(centre="test", night=NightSchedule(enabled=False))


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def streams(redis_url: str, redis_prefix: str) -> AsyncIterator[Streams]:
    client = create_redis(redis_url)
    yield Streams(client, f"{redis_prefix}:router:{secrets.token_hex(3)}")
    await client.aclose()


def runner(streams: Streams, clock: Clock, name: str, ttl_ms: int = 300) -> RouterRunner:
    lease = Lease(streams.client, streams.key("lease"), ttl_ms=ttl_ms, holder=name)
    return RouterRunner(
        config=CONFIG,
        streams=streams,
        lease=lease,
        consumer=name,
        clock=clock,
        renew_every_s=0.05,
        poll_s=0.02,
    )


@asynccontextmanager
async def running(instance: RouterRunner) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(instance.run())
    try:
        yield task
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def send(streams: Streams, *events: r.Event) -> None:
    for event in events:
        await streams.add(EVENTS, event_fields(event))


async def commands(streams: Streams, count: int, within: float = 5.0) -> list[object]:
    async with asyncio.timeout(within):
        while True:
            entries = await streams.client.xrange(streams.key(COMMANDS))
            if len(entries) >= count:
                return [command_from_fields(fields) for _id, fields in entries]
            await asyncio.sleep(0.02)


async def test_a_ready_agent_is_rung_for_an_arriving_call(streams: Streams) -> None:
    clock = Clock()
    router = runner(streams, clock, "router-a")
    async with running(router):
        await send(
            streams,
            r.AgentLoggedIn("1001", {"general": 3}, {"ru": 5}),
            r.AgentReady("1001"),
            r.CallArrived("call-1", "test", topic="general", caller="+79130000001"),
        )
        (connect,) = [
            cmd for cmd in await commands(streams, 1) if type(cmd).__name__ == "ConnectAgent"
        ]
        assert connect.call_id == "call-1" and connect.agent_id == "1001"  # type: ignore[attr-defined]
    log = await streams.client.xrange(streams.key(ROUTER_LOG))
    assert [fields["type"] for _id, fields in log] == ["AgentLoggedIn", "AgentReady", "CallArrived"]
    assert await streams.pending_count(EVENTS, "router") == 0


async def test_a_restarted_router_rebuilds_its_state_from_the_log(streams: Streams) -> None:
    clock = Clock()
    async with running(runner(streams, clock, "router-a")) as _:
        await send(
            streams,
            r.AgentLoggedIn("1001", {"general": 3}, {"ru": 5}),
            r.AgentReady("1001"),
            r.CallArrived("call-1", "test", topic="general"),
        )
        await commands(streams, 1)
    # Same process restarted: the call is still known, its answer is routed normally.
    second = runner(streams, clock, "router-a")
    async with running(second):
        await asyncio.wait_for(second.active.wait(), 5)
        assert "call-1" in second.state.items
        clock.now += 5
        await send(streams, r.AgentAnswered("call-1", "1001"))
        async with asyncio.timeout(5):
            while True:
                item = second.state.agents["1001"].item
                if item is not None and item.connected_at is not None:
                    break
                await asyncio.sleep(0.02)
    connects = [c for c in await commands(streams, 1) if type(c).__name__ == "ConnectAgent"]
    assert len(connects) == 1  # nothing re-executed by the restart


async def test_a_standby_takes_over_when_the_active_router_dies(streams: Streams) -> None:
    clock = Clock()
    first = runner(streams, clock, "router-a", ttl_ms=200)
    standby = runner(streams, clock, "router-b", ttl_ms=200)
    first_task = asyncio.create_task(first.run())
    await asyncio.wait_for(first.active.wait(), 5)
    async with running(standby):
        await asyncio.sleep(0.1)
        assert not standby.active.is_set()
        await send(streams, r.AgentLoggedIn("1001", {"general": 3}, {"ru": 5}))
        # Kill the active router without a chance to release its lease.
        first_task.cancel()
        first.lease.held = False
        with pytest.raises(asyncio.CancelledError):
            await first_task
        await asyncio.wait_for(standby.active.wait(), 5)
        await send(streams, r.AgentReady("1001"), r.CallArrived("call-9", "test", topic="general"))
        connects = [c for c in await commands(streams, 1) if type(c).__name__ == "ConnectAgent"]
        assert connects[0].agent_id == "1001"  # type: ignore[attr-defined]
    log_types = [f["type"] for _i, f in await streams.client.xrange(streams.key(ROUTER_LOG))]
    assert log_types.count("AgentLoggedIn") == 1


async def test_open_callbacks_the_log_never_saw_are_resumed_once(streams: Streams) -> None:
    """PostgreSQL (here: `resume`) holds three open callbacks; the router log knows one of
    them (its Redis came back from an older snapshot). Only the two unknown ones are applied,
    with their own request times; a second start resumes nothing."""
    clock = Clock()
    t0 = clock.now - 60
    database = [
        r.CallbackRequested("cb-known", caller="+79000000001", requested_at=t0, source="operator"),
        r.CallbackRequested("cb-lost", caller="+79000000002", requested_at=t0, source="operator"),
        r.CallbackRequested("cb-new", caller="+79000000003", requested_at=t0 + 30),
    ]
    asked = 0

    async def resume() -> list[r.Event]:
        nonlocal asked
        asked += 1
        return list(database)

    def resuming(name: str) -> RouterRunner:
        instance = runner(streams, clock, name)
        instance.resume = resume
        return instance

    first = runner(streams, clock, "r1")
    async with running(first):
        await send(streams, database[0])
        async with asyncio.timeout(5):
            while True:  # until the router has applied (and logged) the request
                if "cb-known" in first.state.items:
                    break
                await asyncio.sleep(0.02)
    second = resuming("r2")
    async with running(second):
        async with asyncio.timeout(5):
            await second.active.wait()
        assert sorted(second.state.items) == ["cb-known", "cb-lost", "cb-new"]
        deadlines = {cb: second.state.items[cb].deadline for cb in second.state.items}
    assert deadlines["cb-lost"] == t0 + CONFIG.callback_within_seconds
    assert deadlines["cb-new"] == t0 + 30 + CONFIG.callback_within_seconds
    log = await streams.client.xrange(streams.key(ROUTER_LOG))
    requested = [f["body"] for _id, f in log if f["type"] == "CallbackRequested"]
    assert len(requested) == 3  # the known one once (from the stream), the others resumed
    third = resuming("r3")
    async with running(third):
        async with asyncio.timeout(5):
            await third.active.wait()
    log = await streams.client.xrange(streams.key(ROUTER_LOG))
    assert len([1 for _id, f in log if f["type"] == "CallbackRequested"]) == 3
    assert asked == 2
