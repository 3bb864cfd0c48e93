"""End to end over real sockets: fake PBX → bridge → router → bridge → fake PBX, with call
records in real PostgreSQL and streams in real Redis."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ari_bridge.process import run_bridge
from fakepbx.pbx import FakePbx, PbxOptions
from services.acd import events as r
from services.calls.models import CallEvent, CallRecord
from services.common.db import create_engine, session_factory
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.router.process import run_router
from services.router.wire import EVENTS, event_fields

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

DID = "88005550100"
SPEED = 4.0  # the fake's simulated delays run four times faster than real time


@pytest.fixture
async def pbx() -> AsyncIterator[FakePbx]:
    async with FakePbx.start(options=PbxOptions(speed=SPEED, default_sound_seconds=1.0)) as fake:
        for seat in fake.options.operators:
            fake.register(seat)
        yield fake
        assert fake.errors == []


@pytest.fixture
def centre_settings(settings: Settings, pbx: FakePbx, tmp_path: Path) -> Settings:
    """This test's own centre: its own Redis streams, router lease and call records; callers
    go straight to the queue (the voice menus have their own tests in test_voice_menus.py)."""
    bridge_config = tmp_path / "bridge.yaml"
    bridge_config.write_text("menus: false\n", encoding="utf-8")
    return settings.model_copy(
        update={
            "centre_id": f"e2e-{secrets.token_hex(4)}",
            "ari_url": f"{pbx.ari_url}/ari",
            "ami_port": pbx.ami_port,
            "bridge_config": bridge_config,
        }
    )


@asynccontextmanager
async def running(coro: Awaitable[None]) -> AsyncIterator[asyncio.Task[None]]:
    task: asyncio.Task[None] = asyncio.ensure_future(coro)
    try:
        yield task
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        if not done:
            for other in asyncio.all_tasks():
                other.print_stack(limit=3)
            raise AssertionError("a centre process did not stop within 10 s of cancellation")
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


@asynccontextmanager
async def centre(settings: Settings) -> AsyncIterator[None]:
    """The router (with its call-records writer) and the bridge, as `okno acd` / `okno bridge`."""
    database_url, redis_url = settings.database_url or "", settings.redis_url or ""
    async with running(run_router(settings, database_url=database_url, redis_url=redis_url)):
        async with running(run_bridge(settings, redis_url)):
            yield


async def tell_router(settings: Settings, *events: r.Event) -> None:
    client = create_redis(settings.redis_url or "")
    streams = Streams(client, settings.stream_prefix())
    for event in events:
        await streams.add(EVENTS, event_fields(event))
    await client.aclose()


async def operator_ready(settings: Settings, agent: str) -> None:
    await tell_router(
        settings, r.AgentLoggedIn(agent, {"general": 3}, {"ru": 5}), r.AgentReady(agent)
    )


async def wait_for(check: Callable[[], Awaitable[Any]], within: float = 15.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


@pytest.fixture
async def records(
    database_url: str, centre_settings: Settings
) -> AsyncIterator[Callable[[str], Awaitable[Any]]]:
    engine = create_engine(database_url, pool_size=1)
    sessions = session_factory(engine)

    async def read(call_id: str) -> tuple[CallRecord | None, list[str]]:
        async with sessions() as session:
            centre = centre_settings.centre_id
            record = await session.get(CallRecord, (centre, call_id))
            kinds = await session.scalars(
                select(CallEvent.kind)
                .where(CallEvent.centre == centre, CallEvent.call_id == call_id)
                .order_by(CallEvent.id)
            )
            return record, list(kinds)

    yield read
    await engine.dispose()


async def recorded(records: Callable[[str], Awaitable[Any]], call_id: str) -> Any:
    record, _kinds = await records(call_id)
    return record


async def test_a_caller_reaches_a_ready_operator_and_the_record_is_complete(
    pbx: FakePbx, centre_settings: Settings, records: Callable[[str], Awaitable[Any]]
) -> None:
    pbx.set_operator("op1001", answers_after=1.0, hangs_up_after=2.0)
    async with centre(centre_settings):
        await operator_ready(centre_settings, "1001")
        call = pbx.control.inject_call(did=DID, caller="+79130000001")

        async def ended() -> Any:
            record, kinds = await records(call.channel_id)
            return (record, kinds) if record is not None and record.ended_at else None

        record, kinds = await wait_for(ended)
    assert record.outcome == "answered"
    assert record.agent_id == "1001" and record.did == DID and record.caller == "+79130000001"
    assert record.hangup_side == "agent"
    assert record.wait_seconds is not None and record.wait_seconds < 40
    assert record.talk_seconds is not None and record.talk_seconds > 0
    assert kinds[0] == "arrived"
    assert kinds.index("offered") < kinds.index("answered") < kinds.index("agent_hung_up")


async def test_a_caller_who_hangs_up_while_queued_is_recorded_as_abandoned(
    pbx: FakePbx, centre_settings: Settings, records: Callable[[str], Awaitable[Any]]
) -> None:
    pbx.set_operator("op1003", answers_after=None, hangs_up_after=None)
    async with centre(centre_settings):
        await operator_ready(centre_settings, "1003")  # whose phone rings unanswered
        call = pbx.control.inject_call(did=DID, caller="+79130000002")

        async def ringing() -> Any:
            _record, kinds = await records(call.channel_id)
            return "offered" in kinds

        await wait_for(ringing)
        pbx.control.hangup_handset(call.handset_id)

        async def finished() -> Any:
            record, kinds = await records(call.channel_id)
            return record if record is not None and record.outcome != "in_progress" else None

        record = await wait_for(finished)
    assert record.outcome == "abandoned"
    assert record.hangup_side == "caller"


async def test_a_bridge_restart_mid_call_loses_no_call(
    pbx: FakePbx, centre_settings: Settings, records: Callable[[str], Awaitable[Any]]
) -> None:
    settings = centre_settings
    pbx.set_operator("op1002", answers_after=0.3, hangs_up_after=None)
    database_url, redis_url = settings.database_url or "", settings.redis_url or ""

    async def talking() -> Any:
        record, _kinds = await records(call.channel_id)
        return record is not None and record.answered_at is not None

    async def ended() -> Any:
        record, _kinds = await records(call.channel_id)
        return record if record is not None and record.ended_at else None

    async with running(run_router(settings, database_url=database_url, redis_url=redis_url)):
        async with running(run_bridge(settings, redis_url)):
            await operator_ready(settings, "1002")
            call = pbx.control.inject_call(did=DID, caller="+79130000003")
            await wait_for(talking)
        # The bridge is gone (its WebSocket closed) mid-conversation; a new one starts and
        # adopts the call and its operator leg from Asterisk's lists. The caller then hangs up:
        # the adopted operator leg must be released too.
        async with running(run_bridge(settings, redis_url)):
            await asyncio.sleep(0.5)
            pbx.control.hangup_handset(call.handset_id)
            record = await wait_for(ended)

            async def operator_released() -> bool:
                return not any(c.endpoint == "PJSIP/op1002" for c in pbx.engine.channels.values())

            await wait_for(operator_released)
    assert record.outcome == "answered" and record.agent_id == "1002"
    assert record.hangup_side == "caller"
    assert record.talk_seconds is not None and record.talk_seconds > 0.4
