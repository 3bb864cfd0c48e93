"""Resume after the router's log is lost: the open callbacks, replayed from PostgreSQL into a
fresh router core, get the deadlines they had."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RouterConfig
from services.acd.router import RouterState
from services.callbacks.models import Callback
from services.callbacks.resume import pending_callback_events
from tests.callbacks.conftest import Recorder
from tests.callbacks.helpers import RouterLog

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Novokuznetsk")


def local(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 6, day, hour, minute, tzinfo=TZ).timestamp()


async def test_open_callbacks_resume_with_their_original_deadlines(
    log: RouterLog,
    recorder: Recorder,
    sessions: async_sessionmaker[AsyncSession],
    centre: str,
) -> None:
    config = RouterConfig(centre=centre)
    core = RouterState(config)

    async def apply(event: e.Event, now: float) -> list[c.Command]:
        outputs = core.apply(event, now)
        await log.add(event, now, *outputs)
        return outputs

    # Left at night (due from opening), asked for on a queued call, cancelled by staff.
    await apply(
        e.CallbackRequested("cb-night", caller="+79130000001", source="night"), local(16, 23, 30)
    )
    await apply(
        e.CallbackRequested("cb-queue", caller="+79130000002", call_id="call-7"), local(17, 9, 55)
    )
    await apply(e.CallbackRequested("cb-gone", caller="+79130000003"), local(17, 9, 56))
    await apply(e.CallbackCancelled("cb-gone", "по просьбе"), local(17, 9, 57))
    # An operator starts: the night request is dialled first (earliest deadline).
    await apply(e.AgentLoggedIn("op1", {"general": 3}, {"ru": 5}), local(17, 9, 58))
    outputs = await apply(e.AgentReady("op1"), local(17, 9, 58))
    assert any(isinstance(o, c.DialCallback) and o.callback_id == "cb-night" for o in outputs)
    await recorder.drain()

    async with sessions() as session:
        stored = {cb: await session.get(Callback, (centre, cb)) for cb in ("cb-night", "cb-queue")}
        events = await pending_callback_events(session, centre)
    assert [ev.callback_id for ev in events] == ["cb-night", "cb-queue"]
    night, queue = events
    assert (night.source, night.requested_at) == ("night", local(16, 23, 30))
    assert (queue.source, queue.requested_at, queue.call_id) == (
        "queue",
        local(17, 9, 55),
        "call-7",
    )
    assert stored["cb-night"] is not None and stored["cb-night"].status == "dialling"

    # The router log is lost: a fresh core gets the events a little later.
    fresh = RouterState(config)
    deadlines = {}
    for event in events:
        for output in fresh.apply(event, local(17, 10, 1)):
            if isinstance(output, c.CallbackScheduled):
                deadlines[output.callback_id] = output.deadline
    for cb, row in stored.items():
        assert row is not None and row.deadline is not None
        assert deadlines[cb] == row.deadline.timestamp()
    assert deadlines == {"cb-night": local(17, 8, 10), "cb-queue": local(17, 10, 5)}
