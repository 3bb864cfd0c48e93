"""Redis Streams with consumer groups against a real Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from services.common.redis_client import create_redis
from services.common.streams import Streams

pytestmark = pytest.mark.integration


@pytest.fixture
async def streams(redis_url: str, redis_prefix: str) -> AsyncIterator[Streams]:
    client = create_redis(redis_url)
    yield Streams(client, f"{redis_prefix}:{secrets.token_hex(3)}")
    await client.aclose()


async def test_entries_stay_pending_until_acknowledged(streams: Streams) -> None:
    await streams.ensure_group("events", "router")
    await streams.ensure_group("events", "router")  # idempotent
    first = await streams.add("events", {"type": "call.arrived", "call": "1"})
    await streams.add("events", {"type": "call.hungup", "call": "1"})
    read = await streams.read("events", "router", "r1", count=10, block_ms=100)
    assert [e.fields["type"] for e in read] == ["call.arrived", "call.hungup"]
    assert await streams.pending_count("events", "router") == 2
    assert await streams.ack("events", "router", first) == 1
    assert await streams.pending_count("events", "router") == 1
    again = await streams.read_pending("events", "router", "r1")
    assert [e.fields["type"] for e in again] == ["call.hungup"]
    assert await streams.read("events", "router", "r1", block_ms=50) == []


async def test_a_standby_reclaims_what_a_dead_consumer_left(streams: Streams) -> None:
    await streams.ensure_group("commands", "bridge")
    await streams.add("commands", {"command_id": "c-1"})
    taken = await streams.read("commands", "bridge", "dead-bridge", block_ms=100)
    assert len(taken) == 1
    assert await streams.reclaim("commands", "bridge", "standby", min_idle_ms=60_000) == []
    await asyncio.sleep(0.06)
    reclaimed = await streams.reclaim("commands", "bridge", "standby", min_idle_ms=50)
    assert [e.fields["command_id"] for e in reclaimed] == ["c-1"]
    await streams.ack("commands", "bridge", reclaimed[0].id)
    assert await streams.pending_count("commands", "bridge") == 0


async def test_lag_counts_undelivered_entries(streams: Streams) -> None:
    await streams.ensure_group("events", "stats")
    for n in range(5):
        await streams.add("events", {"n": str(n)})
    assert await streams.lag("events", "stats") == 5
    await streams.read("events", "stats", "s1", count=2, block_ms=100)
    assert await streams.lag("events", "stats") == 3
    with pytest.raises(LookupError):
        await streams.lag("events", "nobody")
