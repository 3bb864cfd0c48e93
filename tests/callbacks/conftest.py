"""Fixtures of the callbacks tests: sessions, Redis streams under a prefix of each test, a
router log built entry by entry, and the callbacks service over HTTP."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.models import Role
from services.auth.tokens import read_token
from services.callbacks.recorder import GROUP, run_callbacks_recorder
from services.common.db import create_engine, session_factory
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.router.wire import ROUTER_LOG
from services.workspace.models import OperatorSeat
from tests.callbacks.helpers import RouterLog
from tests.conftest import ServiceStarter, TokenFactory


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=4)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def centre() -> str:
    """A centre of this test only: its rows and streams are its own."""
    return f"t{secrets.token_hex(5)}"


@pytest.fixture
def streams(redis: aioredis.Redis, redis_prefix: str, centre: str) -> Streams:
    return Streams(redis, f"{redis_prefix}:{centre}")


@pytest.fixture
def log(streams: Streams) -> RouterLog:
    return RouterLog(streams)


@dataclass
class Recorder:
    """Runs `run_callbacks_recorder` until the router log is recorded and acknowledged."""

    streams: Streams
    sessions: async_sessionmaker[AsyncSession]
    centre: str

    async def drain(self, *, consumer: str = "test-recorder", within_s: float = 20.0) -> None:
        task = asyncio.create_task(
            run_callbacks_recorder(
                self.streams, self.sessions, consumer=consumer, centre=self.centre
            )
        )
        try:
            async with asyncio.timeout(within_s):
                while not await self.done():
                    if task.done():
                        task.result()
                    await asyncio.sleep(0.05)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def done(self) -> bool:
        try:
            lag = await self.streams.lag(ROUTER_LOG, GROUP)
        except LookupError:
            return False  # the group is not created yet
        return lag == 0 and await self.streams.pending_count(ROUTER_LOG, GROUP) == 0


@pytest.fixture
def recorder(streams: Streams, sessions: async_sessionmaker[AsyncSession], centre: str) -> Recorder:
    return Recorder(streams, sessions, centre)


@pytest.fixture(scope="session")
async def callbacks_url(service_url: ServiceStarter) -> str:
    return await service_url("callbacks")


@dataclass
class Tokens:
    operator: str
    operator_name: str
    operator_agent: str  # the router agent of the operator's workspace seat
    supervisor: str
    admin: str
    agency: str


@pytest.fixture(scope="session")
async def tokens(
    token_for: TokenFactory, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> Tokens:
    operator = await token_for(Role.OPERATOR)
    claims = read_token(operator, secret=settings.signing_secret())
    agent = f"op{secrets.token_hex(4)}"
    async with sessions() as session, session.begin():
        session.add(OperatorSeat(user_id=claims.user_id, agent_id=agent, skills={}, languages={}))
    return Tokens(
        operator,
        claims.username,
        agent,
        await token_for(Role.SUPERVISOR),
        await token_for(Role.ADMINISTRATOR),
        await token_for(Role.AGENCY),
    )
