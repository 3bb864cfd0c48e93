"""The router process over real Redis: live state written and published every second, counters
right after a restart, `/metrics` served with stream lag."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.acd import events as r
from services.acd.config import RouterConfig
from services.acd.schedule import NightSchedule
from services.common.lease import Lease
from services.common.metrics import start_metrics_server
from services.common.redis_client import create_redis
from services.common.streams import Streams
from services.router.exporter import RouterExporter
from services.router.live import read_live
from services.router.runner import RouterRunner
from services.router.wire import EVENTS, ROUTER_LOG, event_fields
from tests.support.servers import free_port

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
    yield Streams(client, f"{redis_prefix}:live:{secrets.token_hex(3)}")
    await client.aclose()


def live_key_of(streams: Streams) -> str:
    return streams.key("live-state")


def runner(streams: Streams, clock: Clock) -> RouterRunner:
    lease = Lease(streams.client, streams.key("lease"), ttl_ms=300, holder="router-a")
    return RouterRunner(
        config=CONFIG,
        streams=streams,
        lease=lease,
        consumer="router-a",
        clock=clock,
        renew_every_s=0.05,
        poll_s=0.02,
        live_key=live_key_of(streams),
        live_every_s=0.05,
    )


@asynccontextmanager
async def running(instance: RouterRunner) -> AsyncIterator[None]:
    task = asyncio.create_task(instance.run())
    try:
        await asyncio.wait_for(instance.active.wait(), 10)
        yield
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def applied(streams: Streams, count: int) -> None:
    async with asyncio.timeout(10):
        while True:
            if await streams.client.xlen(streams.key(ROUTER_LOG)) >= count:
                return
            await asyncio.sleep(0.02)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


async def test_live_state_is_published_and_counters_survive_a_restart(streams: Streams) -> None:
    clock = Clock()
    first = runner(streams, clock)
    subscriber = streams.client.pubsub()
    await subscriber.subscribe(live_key_of(streams))
    events = [
        r.AgentLoggedIn("1001", {"general": 3}, {"ru": 5}),
        r.AgentReady("1001"),
        r.CallArrived("call-1", "test", topic="general", caller="+79130000001"),
        r.AgentAnswered("call-1", "1001"),
        r.CallArrived("call-2", "test", topic="general", caller="+79130000002"),
    ]
    async with running(first):
        for event in events:
            clock.now += 3
            await streams.add(EVENTS, event_fields(event))
            await applied(streams, events.index(event) + 1)
        clock.now += 7
        async with asyncio.timeout(10):
            while True:
                message = await subscriber.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None and json.loads(message["data"])["at"] == clock.now:
                    published = json.loads(message["data"])
                    break
        stored = await read_live(streams.client, live_key_of(streams))
        before = samples(generate_latest(first.metrics.registry).decode())
    await subscriber.aclose()
    assert stored is not None and stored["at"] == published["at"]
    assert published["agents"] == [
        {
            "id": "1001",
            "state": "talking",
            "since": 1_800_000_012.0,
            "call_id": "call-1",
            "topic": "general",
            "pause_reason": None,
        }
    ]
    assert [w["call_id"] for w in published["waiting"]] == ["call-2"]
    assert published["waiting"][0]["waited"] == 7.0
    assert published["wallboard"]["service_level_today"] == 1.0
    assert (
        before[("okno_acd_answer_wait_seconds_count", (("centre", "test"), ("topic", "general")))]
        == 1
    )

    clock.now += 100  # the restart happens later; replay uses the recorded times
    second = runner(streams, clock)
    async with running(second):
        after = samples(generate_latest(second.metrics.registry).decode())
        assert second.since.states == {"1001": ("talking", 1_800_000_012.0)}
    assert after == before


async def test_the_router_serves_metrics_with_stream_lag(streams: Streams) -> None:
    clock = Clock()
    instance = runner(streams, clock)
    exporter = RouterExporter(instance, streams)
    port = free_port()
    server = await start_metrics_server("127.0.0.1", port, exporter.render)
    assert server is not None
    try:
        async with httpx.AsyncClient(timeout=5) as http:
            standby = samples((await http.get(f"http://127.0.0.1:{port}/metrics")).text)
            assert standby[("okno_acd_router_lease_held", (("centre", "test"),))] == 0
            assert not any(name == "okno_acd_calls_waiting" for name, _ in standby)
            async with running(instance):
                await streams.add(EVENTS, event_fields(r.CallArrived("c1", "test")))
                await applied(streams, 1)
                await streams.ensure_group(ROUTER_LOG, "recorder")
                reply = await http.get(f"http://127.0.0.1:{port}/metrics")
                missing = await http.get(f"http://127.0.0.1:{port}/other")
            active = samples(reply.text)
    finally:
        server.close()
    assert reply.headers["content-type"].startswith("text/plain")
    assert missing.status_code == 404
    labels = (("centre", "test"),)
    assert active[("okno_acd_router_lease_held", labels)] == 1
    assert active[("okno_acd_calls_waiting", (*labels, ("topic", "general")))] == 1
    lag = (*labels, ("group", "recorder"), ("stream", "router-log"))
    assert active[("okno_stream_lag_entries", lag)] == 1  # the group starts at the beginning
    assert (
        active[
            ("okno_stream_pending_entries", (*labels, ("group", "router"), ("stream", "events")))
        ]
        == 0
    )


async def test_a_taken_port_does_not_stop_the_process() -> None:
    port = free_port()

    async def render() -> bytes:
        return b""

    first = await start_metrics_server("127.0.0.1", port, render)
    assert first is not None
    try:
        assert await start_metrics_server("127.0.0.1", port, render) is None
    finally:
        first.close()
