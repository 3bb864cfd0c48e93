"""The callbacks writer on hand-built router logs: each path a callback can take, menu
variables, and that redelivery, a dead consumer and a second recorder change nothing."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.acd import commands as c
from services.acd import events as e
from services.callbacks.models import Callback, CallbackAttempt
from services.callbacks.recorder import GROUP, record_entry
from services.common.streams import Entry, Streams
from services.ivr.streams import CALL_VARIABLES
from services.router.wire import ROUTER_LOG
from tests.callbacks.conftest import Recorder
from tests.callbacks.helpers import RouterLog

pytestmark = pytest.mark.integration

NUMBER = "+79231234567"
Sessions = async_sessionmaker[AsyncSession]


def at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


async def row_of(sessions: Sessions, centre: str, callback_id: str) -> dict[str, Any]:
    async with sessions() as session:
        row = await session.get(Callback, (centre, callback_id))
        assert row is not None, callback_id
        return {col.name: getattr(row, col.key) for col in Callback.__table__.columns}


async def attempts_of(sessions: Sessions, centre: str, callback_id: str) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(CallbackAttempt)
            .where(CallbackAttempt.centre == centre, CallbackAttempt.callback_id == callback_id)
            .order_by(CallbackAttempt.attempt)
        )
        return [(a.attempt, a.agent_id, a.result, a.at) for a in rows]


async def request(
    log: RouterLog,
    callback_id: str,
    now: float,
    *,
    caller: str = NUMBER,
    call_id: str = "",
    source: str = "queue",
    topic: str = "passport",
) -> None:
    """A request the router accepted and scheduled: due at once, promised in 10 minutes."""
    await log.add(
        e.CallbackRequested(
            callback_id,
            topic=topic,
            caller=caller,
            call_id=call_id,
            requested_at=now - 5,
            source=source,
        ),
        now,
        c.CallbackScheduled(
            log.next_seq(), callback_id, caller, topic, source, now - 5, now - 5, now + 595, 1
        ),
    )


async def dial(log: RouterLog, callback_id: str, agent: str, now: float, attempt: int) -> None:
    """The router rings the operator's seat; it answers 3 s later and the citizen's phone rings
    (the core records nothing for that answer)."""
    await log.add(
        e.ScheduleTick(),
        now,
        c.DialCallback(log.next_seq(), callback_id, agent, NUMBER, 30.0, attempt, "passport"),
    )
    await log.add(e.AgentAnswered(callback_id, agent), now + 3)


async def reached(log: RouterLog, callback_id: str, agent: str, now: float) -> None:
    """The citizen answered."""
    await log.add(
        e.CallbackResult(callback_id, agent, "answered"),
        now,
        c.CallAnswered(log.next_seq(), callback_id, agent, 33.0, 0.0),
    )


async def test_a_callback_busy_then_answered_is_done_with_both_attempts_and_menu_variables(
    log: RouterLog, streams: Streams, recorder: Recorder, sessions: Sessions, centre: str
) -> None:
    t = time.time()
    cb = "cb-call-1"
    variables = {"topic": "passport", "choice": "2", "did": "88003000001"}
    await streams.add(
        CALL_VARIABLES,
        {"call_id": "call-1", "variables": json.dumps(variables, ensure_ascii=False)},
    )
    await streams.add(CALL_VARIABLES, {"call_id": "call-2", "variables": "{}"})
    await request(log, cb, t, call_id="call-1")
    # The first operator's phone does not answer: back to the line, no attempt counted.
    await log.add(
        e.ScheduleTick(),
        t + 20,
        c.DialCallback(log.next_seq(), cb, "op0", NUMBER, 25.0, 1, "passport"),
    )
    await recorder.drain()
    row = await row_of(sessions, centre, cb)
    assert (row["status"], row["agent_id"]) == ("dialling", "op0")

    await log.add(e.AgentNoAnswer(cb, "op0"), t + 35)
    await log.add(e.AgentAnswered(cb, "op0"), t + 36)  # too late: the router ignores it
    await recorder.drain()
    row = await row_of(sessions, centre, cb)
    assert (row["status"], row["agent_id"], row["attempts"]) == ("pending", None, 0)
    assert row["first_dialled_at"] is None and row["promised_by"] == at(t + 595)

    await dial(log, cb, "op1", t + 40, 1)
    await log.add(
        e.CallbackResult(cb, "op1", "busy"),
        t + 50,
        c.CallbackAttempted(log.next_seq(), cb, "op1", 1, "busy"),
        c.CallbackScheduled(
            log.next_seq(), cb, NUMBER, "passport", "queue", t - 5, t + 170, t + 770, 2
        ),
    )
    await recorder.drain()
    row = await row_of(sessions, centre, cb)
    assert (row["status"], row["attempts"], row["last_result"]) == ("pending", 1, "busy")
    assert row["due_at"] == at(t + 170) and row["answered_at"] is None

    await dial(log, cb, "op2", t + 170, 2)
    await reached(log, cb, "op2", t + 180)
    await log.add(e.CallEnded(cb), t + 400, c.CallFinished(log.next_seq(), cb, "callback_done"))
    await recorder.drain()

    row = await row_of(sessions, centre, cb)
    assert row["status"] == "done"
    assert (row["attempts"], row["last_result"], row["agent_id"]) == (2, "answered", "op2")
    assert row["requested_at"] == at(t - 5)
    assert (row["due_at"], row["deadline"]) == (at(t + 170), at(t + 770))
    # The first promise stays; the citizen's phone first rang when op1's seat answered.
    assert (row["promised_by"], row["first_dialled_at"]) == (at(t + 595), at(t + 43))
    assert (row["answered_at"], row["finished_at"]) == (at(t + 180), at(t + 400))
    assert (row["caller"], row["topic"], row["source"]) == (NUMBER, "passport", "queue")
    assert (row["call_id"], row["created_by"]) == ("call-1", "router")
    assert row["variables"] == variables
    assert await attempts_of(sessions, centre, cb) == [
        (1, "op1", "busy", at(t + 50)),
        (2, "op2", "answered", at(t + 180)),
    ]


async def test_a_repeat_request_for_the_same_number_is_merged_into_the_waiting_one(
    log: RouterLog, recorder: Recorder, sessions: Sessions, centre: str
) -> None:
    t = 1_790_000_000.0
    await request(log, "cb-a", t, source="callback_line")
    await request(log, "cb-other", t + 1, caller="+79130000000")
    await log.add(
        e.CallbackRequested("cb-b", caller=NUMBER, source="callback_line"),
        t + 60,
        c.CallFinished(log.next_seq(), "cb-b", "callback_merged"),
    )
    # Asked again as if first asked earlier (promised by t + 500): the pending one takes the
    # earlier promise; its first one is then t + 500.
    await log.add(
        e.CallbackRequested("cb-c", caller=NUMBER, requested_at=t - 100),
        t + 70,
        c.CallFinished(log.next_seq(), "cb-c", "callback_merged"),
        c.CallbackScheduled(
            log.next_seq(), "cb-a", NUMBER, "passport", "callback_line", t - 5, t - 5, t + 500, 1
        ),
    )
    await recorder.drain()
    merged = await row_of(sessions, centre, "cb-b")
    assert (merged["status"], merged["merged_into"]) == ("merged", "cb-a")
    assert merged["finished_at"] == at(t + 60)
    assert merged["requested_at"] == at(t + 60)  # requested_at 0.0: the router's now
    pending = await row_of(sessions, centre, "cb-a")
    assert pending["status"] == "pending"
    assert pending["deadline"] == pending["promised_by"] == at(t + 500)


async def test_cancelled_closed_and_failed_after_three_attempts(
    log: RouterLog, recorder: Recorder, sessions: Sessions, centre: str
) -> None:
    t = 1_790_000_000.0
    await request(log, "cb-cancel", t)
    await log.add(
        e.CallbackCancelled("cb-cancel", "по просьбе гражданина"),
        t + 10,
        c.CallFinished(log.next_seq(), "cb-cancel", "callback_cancelled"),
    )
    # The citizen called in and was answered: the pending callback is closed.
    await request(log, "cb-closed", t, caller="+79130000001")
    await log.add(
        e.AgentAnswered("call-9", "op3"),
        t + 20,
        c.CallAnswered(log.next_seq(), "call-9", "op3", 12.0, 10.0),
        c.CallFinished(log.next_seq(), "cb-closed", "callback_closed"),
    )
    await request(log, "cb-failed", t, caller="+79130000002")
    results = ["no_answer", "busy", "hung_up"]
    for attempt, result in enumerate(results, start=1):
        now = t + 200 * attempt
        await dial(log, "cb-failed", f"op{attempt}", now, attempt)
        after: c.Command = (
            c.CallbackScheduled(
                log.next_seq(),
                "cb-failed",
                NUMBER,
                "passport",
                "queue",
                t - 5,
                now + 130,
                t + 595,
                attempt + 1,
            )
            if attempt < 3
            else c.CallFinished(log.next_seq(), "cb-failed", "callback_failed")
        )
        await log.add(
            e.CallbackResult("cb-failed", f"op{attempt}", result),
            now + 10,
            c.CallbackAttempted(log.next_seq(), "cb-failed", f"op{attempt}", attempt, result),
            after,
        )
    await recorder.drain()

    cancelled = await row_of(sessions, centre, "cb-cancel")
    assert (cancelled["status"], cancelled["finished_at"]) == ("cancelled", at(t + 10))
    closed = await row_of(sessions, centre, "cb-closed")
    assert (closed["status"], closed["finished_at"]) == ("closed", at(t + 20))
    failed = await row_of(sessions, centre, "cb-failed")
    assert (failed["status"], failed["attempts"], failed["last_result"]) == (
        "failed",
        3,
        "hung_up",
    )
    assert failed["answered_at"] is None and failed["finished_at"] == at(t + 610)
    assert [(n, r) for n, _a, r, _t in await attempts_of(sessions, centre, "cb-failed")] == [
        (1, "no_answer"),
        (2, "busy"),
        (3, "hung_up"),
    ]
    async with sessions() as session:
        found = await session.scalar(
            select(Callback).where(Callback.centre == centre, Callback.callback_id == "call-9")
        )
    assert found is None  # a call's records never make a callback


async def _full_history(log: RouterLog, t: float) -> None:
    await request(log, "cb-x", t)
    await dial(log, "cb-x", "op1", t + 30, 1)
    await log.add(
        e.CallbackResult("cb-x", "op1", "no_answer"),
        t + 60,
        c.CallbackAttempted(log.next_seq(), "cb-x", "op1", 1, "no_answer"),
        c.CallbackScheduled(
            log.next_seq(), "cb-x", NUMBER, "passport", "queue", t - 5, t + 180, t + 595, 2
        ),
    )
    await dial(log, "cb-x", "op2", t + 180, 2)
    await reached(log, "cb-x", "op2", t + 190)
    await log.add(
        e.CallEnded("cb-x"), t + 300, c.CallFinished(log.next_seq(), "cb-x", "callback_done")
    )


async def test_redelivered_and_replayed_entries_change_nothing(
    log: RouterLog,
    streams: Streams,
    redis: aioredis.Redis,
    recorder: Recorder,
    sessions: Sessions,
    centre: str,
) -> None:
    t = 1_790_000_000.0
    await _full_history(log, t)
    await recorder.drain()
    before = await row_of(sessions, centre, "cb-x")
    attempts = await attempts_of(sessions, centre, "cb-x")
    assert (before["status"], len(attempts)) == ("done", 2)

    # Every entry delivered again (as after a lost acknowledgement or a reset group).
    await redis.xgroup_setid(streams.key(ROUTER_LOG), GROUP, id="0")
    await recorder.drain()
    assert await row_of(sessions, centre, "cb-x") == before
    assert await attempts_of(sessions, centre, "cb-x") == attempts

    # An old entry applied out of order (a stale consumer) does not turn the clock back.
    client: Any = redis  # redis-py's stubs mix sync and async return types
    stale = await client.xrange(streams.key(ROUTER_LOG), min=log.ids[1], max=log.ids[1])
    async with sessions() as session, session.begin():
        entry = Entry(ROUTER_LOG, stale[0][0], stale[0][1])
        assert await record_entry(session, entry, centre=centre) == 0
    assert await row_of(sessions, centre, "cb-x") == before


async def test_entries_a_dead_consumer_left_unacknowledged_are_taken_over_in_order(
    log: RouterLog, streams: Streams, recorder: Recorder, sessions: Sessions, centre: str
) -> None:
    t = 1_790_000_000.0
    await _full_history(log, t)
    await streams.ensure_group(ROUTER_LOG, GROUP)
    taken = await streams.read(ROUTER_LOG, GROUP, "dead-process", count=4, block_ms=None)
    assert len(taken) == 4
    await recorder.drain(consumer="live-process")
    row = await row_of(sessions, centre, "cb-x")
    assert (row["status"], row["attempts"], row["answered_at"]) == ("done", 2, at(t + 190))
    assert row["first_dialled_at"] == at(t + 33)
    assert len(await attempts_of(sessions, centre, "cb-x")) == 2


async def test_two_recorders_at_once_record_each_callback_in_log_order(
    log: RouterLog, streams: Streams, sessions: Sessions, centre: str, recorder: Recorder
) -> None:
    from services.callbacks.recorder import run_callbacks_recorder

    tasks = [
        asyncio.create_task(run_callbacks_recorder(streams, sessions, consumer=name, centre=centre))
        for name in ("acd-1", "acd-2")
    ]
    try:
        t = 1_790_000_000.0
        for n in range(5):
            await _history_of(log, f"cb-{n}", f"+7913000000{n}", t + n)
            await asyncio.sleep(0.02)
        async with asyncio.timeout(20):
            while not await recorder.done():
                for task in tasks:
                    if task.done():
                        task.result()  # a recorder must not stop by itself
                await asyncio.sleep(0.05)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for n in range(5):
        row = await row_of(sessions, centre, f"cb-{n}")
        assert (row["status"], row["attempts"], row["last_result"]) == ("done", 1, "answered")


async def _history_of(log: RouterLog, cb: str, caller: str, t: float) -> None:
    await request(log, cb, t, caller=caller)
    await dial(log, cb, "op1", t + 30, 1)
    await reached(log, cb, "op1", t + 40)
    await log.add(e.CallEnded(cb), t + 100, c.CallFinished(log.next_seq(), cb, "callback_done"))


async def test_a_malformed_entry_is_skipped_and_does_not_block_the_rest(
    log: RouterLog, streams: Streams, recorder: Recorder, sessions: Sessions, centre: str
) -> None:
    t = 1_790_000_000.0
    await streams.add(
        ROUTER_LOG, {"type": "CallbackRequested", "body": "{not json", "now": repr(t)}
    )
    await streams.add(
        ROUTER_LOG,
        {"type": "ScheduleTick", "body": "{}", "now": repr(t), "outputs": '[{"type": "Dial'},
    )
    await request(log, "cb-after", t + 1)
    await recorder.drain()
    assert (await row_of(sessions, centre, "cb-after"))["status"] == "pending"
