"""Redis connections: one client per process, with a clear error when the server is unreachable."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from services.common.errors import ServerUnreachable


def create_redis(url: str) -> aioredis.Redis:
    """A client that returns `str`, built in a process's bootstrap, never at import."""
    return aioredis.Redis.from_url(url, decode_responses=True, health_check_interval=30)


def describe_redis_url(url: str) -> str:
    """Where a Redis URL points, without credentials."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}"


async def check_redis(client: aioredis.Redis, url: str, *, within: float = 5.0) -> None:
    """Fail with a clear message when Redis cannot be reached."""
    try:
        async with asyncio.timeout(within):
            await client.ping()
    except (OSError, TimeoutError, RedisError) as exc:
        raise ServerUnreachable("Redis", describe_redis_url(url), exc) from exc
