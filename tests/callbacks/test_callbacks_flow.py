"""The real router process and the callbacks writer together: a callback busy once, then
answered, ends up `done` with both attempts, its first promise and first ring in PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.acd import events as r
from services.acd.config import RouterConfig
from services.callbacks.models import Callback, CallbackAttempt
from services.callbacks.recorder import run_callbacks_recorder
from services.common.lease import Lease
from services.common.streams import Streams
from services.router.runner import RouterRunner
from services.router.wire import EVENTS, event_fields

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


class Clock:
    """A Wednesday 11:00 in the centre: callback hours, not night."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 17, 11, 0, tzinfo=ZoneInfo("Asia/Novokuznetsk")).timestamp()

    def __call__(self) -> float:
        return self.now


async def wait_for(sessions: Sessions, centre: str, cb: str, **expected: Any) -> Callback:
    async with asyncio.timeout(20):
        while True:
            async with sessions() as session:
                row = await session.get(Callback, (centre, cb))
            if row is not None and all(getattr(row, k) == v for k, v in expected.items()):
                return row
            await asyncio.sleep(0.05)


async def test_a_callback_through_the_router_process_is_recorded_attempt_by_attempt(
    streams: Streams, sessions: Sessions, centre: str
) -> None:
    clock = Clock()
    lease = Lease(streams.client, streams.key("router-lease"), ttl_ms=2000, holder="r1")
    runner = RouterRunner(
        config=RouterConfig(centre=centre),
        streams=streams,
        lease=lease,
        consumer="r1",
        clock=clock,
        renew_every_s=0.2,
        poll_s=0.02,
    )
    tasks = [
        asyncio.create_task(runner.run()),
        asyncio.create_task(
            run_callbacks_recorder(streams, sessions, consumer="r1", centre=centre)
        ),
    ]

    async def send(*events: r.Event) -> None:
        for event in events:
            await streams.add(EVENTS, event_fields(event))

    cb = "cb-line-1"
    start = clock.now
    try:
        await send(
            r.AgentLoggedIn("op1", {"general": 3}, {"ru": 5}),
            r.AgentReady("op1"),
            r.CallbackRequested(cb, caller="+79130000042", source="callback_line"),
        )
        row = await wait_for(sessions, centre, cb, status="dialling", agent_id="op1")
        assert row.deadline is not None and row.deadline.timestamp() == clock.now + 600
        await send(r.AgentAnswered(cb, "op1"), r.CallbackResult(cb, "op1", "busy"))
        row = await wait_for(sessions, centre, cb, status="pending", attempts=1)
        assert row.last_result == "busy" and row.due_at is not None
        assert row.due_at.timestamp() == clock.now + 120  # the retry, 2 minutes later
        assert row.deadline is not None and row.deadline.timestamp() == clock.now + 720

        clock.now += 121
        await wait_for(sessions, centre, cb, status="dialling")
        await send(
            r.AgentAnswered(cb, "op1"), r.CallbackResult(cb, "op1", "answered"), r.CallEnded(cb)
        )
        row = await wait_for(sessions, centre, cb, status="done")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    assert (row.attempts, row.last_result, row.source) == (2, "answered", "callback_line")
    assert row.answered_at is not None and row.answered_at.timestamp() == clock.now
    # Made on time: the citizen's phone first rang at once, by the first promise, which the
    # retry's later deadline did not move.
    assert row.first_dialled_at is not None and row.first_dialled_at.timestamp() == start
    assert row.promised_by is not None and row.promised_by.timestamp() == start + 600
    async with sessions() as session:
        attempts = await session.scalars(
            select(CallbackAttempt.result)
            .where(CallbackAttempt.centre == centre, CallbackAttempt.callback_id == cb)
            .order_by(CallbackAttempt.attempt)
        )
        assert list(attempts) == ["busy", "answered"]
