"""What a running service holds: its settings, database sessions and Redis client."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


@dataclass(slots=True)
class Runtime:
    """Built once per process in the app's lifespan and reached through request.app.state."""

    service: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: aioredis.Redis
    signing_secret: str
