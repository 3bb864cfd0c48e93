"""The Redis lease that keeps one router per centre acting."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from services.common.lease import Lease
from services.common.redis_client import create_redis

pytestmark = pytest.mark.integration


async def test_only_one_holder_and_a_standby_takes_over_after_expiry(
    redis_url: str, redis_prefix: str
) -> None:
    client = create_redis(redis_url)
    key = f"{redis_prefix}:lease:{secrets.token_hex(3)}"
    first = Lease(client, key, ttl_ms=200, holder="router-a")
    standby = Lease(client, key, ttl_ms=200, holder="router-b")
    try:
        assert await first.try_acquire()
        assert not await standby.try_acquire()
        assert await first.renew()
        assert await standby.current_holder() == first.token
        waiting = asyncio.create_task(standby.wait_acquire(poll_s=0.02))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # the holder is alive (renewed 100 ms ago)
        await asyncio.wait_for(waiting, 2)  # it stops renewing: the lease lapses
        assert standby.held
        assert not await first.renew()  # the old holder learns it lost the lease
        await first.release()  # and cannot drop the new holder's lease
        assert await standby.current_holder() == standby.token
        await standby.release()
        assert await standby.current_holder() is None
    finally:
        await client.aclose()
