"""A lease in Redis so that exactly one process of a kind acts (one router per centre).

The holder renews the lease well before it expires; a standby polls and takes it when it
lapses. Renewal and release compare the holder's token atomically (Lua), so a process that
lost its lease — paused, partitioned — can never extend or drop someone else's.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import redis.asyncio as aioredis

from services.common.cancel import raise_if_cancelling

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    """One named lease; `holder` says who holds it (for logs and the /health of standbys)."""

    def __init__(self, client: aioredis.Redis, key: str, *, ttl_ms: int, holder: str) -> None:
        self._redis: Any = client  # redis-py's stubs mix sync and async return types
        self.key = key
        self.ttl_ms = ttl_ms
        self.token = f"{holder}:{secrets.token_hex(8)}"
        self.held = False

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it."""
        self.held = bool(await self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms))
        raise_if_cancelling()
        return self.held

    async def renew(self) -> bool:
        """Extend the lease; False means it was lost and the holder must stop acting."""
        self.held = bool(await self._redis.eval(_RENEW, 1, self.key, self.token, self.ttl_ms))
        raise_if_cancelling()
        return self.held

    async def release(self) -> None:
        """Give the lease up at once so a standby need not wait for it to expire."""
        await self._redis.eval(_RELEASE, 1, self.key, self.token)
        self.held = False

    async def current_holder(self) -> str | None:
        """The token of whoever holds the lease now."""
        value = await self._redis.get(self.key)
        return str(value) if value is not None else None

    async def wait_acquire(self, *, poll_s: float) -> None:
        """Block as a standby until the lease is ours (Redis has no notification of expiry,
        so the standby polls)."""
        while True:
            if await self.try_acquire():
                return
            await asyncio.sleep(poll_s)
