"""Call records of calls that end in the voice menu, and the menu's variables on queued calls'
records: the `call-variables` writer over real Redis and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.acd import commands as c
from services.acd import events as r
from services.calls.menu import RECORD_OUTCOMES, menu_call, menu_steps
from services.calls.menu_records import GROUP, QUEUE_GRACE_S, menu_round, record_menu_entry
from services.calls.models import CallEvent, CallRecord
from services.calls.recorder import record_entry, run_recorder
from services.common.db import create_engine, session_factory
from services.common.redis_client import create_redis
from services.common.streams import Entry, Streams
from services.ivr.streams import CALL_VARIABLES
from services.router.wire import ROUTER_LOG, event_fields

CENTRE = "kuzbass"


@pytest.fixture(scope="module")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=2)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def streams(redis_url: str, redis_prefix: str) -> AsyncIterator[Streams]:
    client = create_redis(redis_url)
    yield Streams(client, f"{redis_prefix}:calls:{secrets.token_hex(3)}")
    await client.aclose()


def call_id() -> str:
    return f"{int(time.time())}.{secrets.randbelow(10**6)}"


def menu_fields(call: str, outcome: str, *, started: float, ended: float) -> dict[str, str]:
    variables = {"did": "88005550100", "caller": "79231234567", "topic": "mfc", "choice_x": "1"}
    return {
        "call_id": call,
        "variables": json.dumps(variables, ensure_ascii=False),
        "outcome": outcome,
        "did": "88005550100",
        "caller": "79231234567",
        "started_at": str(started),
        "ended_at": str(ended),
    }


def router_log(event: r.Event, now: float, *outputs: c.Command) -> dict[str, str]:
    return {
        **event_fields(event),
        "now": repr(now),
        "source": "",
        "outputs": json.dumps([c.command_to_record(o) for o in outputs]),
    }


async def record_of(
    sessions: async_sessionmaker[AsyncSession], call: str
) -> tuple[CallRecord | None, list[CallEvent]]:
    async with sessions() as session:
        record = await session.get(CallRecord, (CENTRE, call))
        events = await session.scalars(
            select(CallEvent)
            .where(CallEvent.centre == CENTRE, CallEvent.call_id == call)
            .order_by(CallEvent.at, CallEvent.id)
        )
        return record, list(events)


def test_entry_is_read_strictly() -> None:
    fields = menu_fields("c1", "transfer", started=100.0, ended=130.5)
    call = menu_call(fields)
    assert (call.record_outcome, call.hangup_side, call.topic) == (
        "transferred_from_menu",
        None,
        "mfc",
    )
    assert call.variables["choice_x"] == "1"
    for broken in (
        {"call_id": ""},
        {"outcome": "teleport"},
        {"variables": "[1, 2]"},
        {"variables": "{"},
        {"started_at": "yesterday"},
        {"ended_at": ""},
    ):
        with pytest.raises(ValueError):
            menu_call(fields | broken)


@given(
    outcome=st.sampled_from(sorted(RECORD_OUTCOMES)),
    started=st.floats(min_value=1e9, max_value=2e9),
    length=st.floats(min_value=-5, max_value=3600),
)
def test_menu_steps_are_ordered(outcome: str, started: float, length: float) -> None:
    """Whatever the clocks say, the menu ends no earlier than it began, and every outcome
    has a record name."""
    call = menu_call(menu_fields("c", outcome, started=started, ended=started + length))
    first, last = menu_steps(call)
    assert first.at <= last.at and last.data["menu_seconds"] >= 0
    assert (first.kind, last.kind) == ("menu_started", "menu_ended")
    assert last.data["outcome"] == outcome
    assert call.record_outcome in {*filter(None, RECORD_OUTCOMES.values()), "queued"}


@pytest.mark.parametrize(
    ("outcome", "record_outcome", "side"),
    [
        ("hangup", "menu_hangup", "caller"),
        ("self_service", "self_service", "menu"),
        ("transfer", "transferred_from_menu", None),
        ("recorded", "voice_message", "menu"),
        ("callback", "callback_requested", "menu"),
    ],
)
async def test_call_ended_in_the_menu_gets_a_record(
    streams: Streams,
    sessions: async_sessionmaker[AsyncSession],
    outcome: str,
    record_outcome: str,
    side: str | None,
) -> None:
    call, start = call_id(), time.time() - 60
    await streams.ensure_group(CALL_VARIABLES, GROUP)
    fields = menu_fields(call, outcome, started=start, ended=start + 42)
    if outcome == "self_service":
        fields["reason"] = "no_input"
    await streams.add(CALL_VARIABLES, fields)
    assert await menu_round(streams, sessions, consumer="t", centre=CENTRE, block_ms=None) == (
        0,
        1,
    )
    record, events = await record_of(sessions, call)
    assert record is not None
    assert (record.outcome, record.hangup_side, record.topic) == (record_outcome, side, "mfc")
    assert (record.did, record.caller) == ("88005550100", "79231234567")
    assert record.arrived_at == datetime.fromtimestamp(start, UTC)
    assert record.ended_at is not None
    assert (record.ended_at - record.arrived_at).total_seconds() == pytest.approx(42)
    assert [e.kind for e in events] == ["menu_started", "menu_ended"]
    assert events[1].data["variables"]["choice_x"] == "1"
    assert events[1].data.get("reason") == ("no_input" if outcome == "self_service" else None)
    assert await streams.pending_count(CALL_VARIABLES, GROUP) == 0


async def test_redelivered_entry_changes_nothing(
    streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A writer that died between its commit and its ack: the entry comes again."""
    call, start = call_id(), time.time()
    await streams.ensure_group(CALL_VARIABLES, GROUP)
    await streams.add(CALL_VARIABLES, menu_fields(call, "hangup", started=start, ended=start + 5))
    [entry] = await streams.read(CALL_VARIABLES, GROUP, "t", block_ms=None)
    async with sessions() as session, session.begin():
        assert await record_menu_entry(session, entry, centre=CENTRE, now=time.time()) == (
            "recorded"
        )
    assert await streams.pending_count(CALL_VARIABLES, GROUP) == 1
    assert await menu_round(streams, sessions, consumer="t", centre=CENTRE, block_ms=None) == (
        0,
        0,
    )
    _record, events = await record_of(sessions, call)
    assert len(events) == 2
    assert await streams.pending_count(CALL_VARIABLES, GROUP) == 0


async def test_queued_call_gets_the_menu_variables(
    streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The menu's entry usually comes before the router has logged the arrival: it waits,
    pending, and is recorded on the router's record once that exists."""
    call, start = call_id(), time.time() - 100
    await streams.ensure_group(CALL_VARIABLES, GROUP)
    await streams.add(CALL_VARIABLES, menu_fields(call, "queue", started=start, ended=start + 30))
    assert await menu_round(streams, sessions, consumer="t", centre=CENTRE, block_ms=None) == (
        1,
        1,
    )
    assert (await record_of(sessions, call))[0] is None
    assert await streams.pending_count(CALL_VARIABLES, GROUP) == 1

    arrival = r.CallArrived(call, CENTRE, topic="mfc", did="88005550100", caller="79231234567")
    async with sessions() as session, session.begin():
        await record_entry(
            session,
            Entry(ROUTER_LOG, "1-1", router_log(arrival, start + 30, c.Queued(1, call, 1, 12.0))),
            centre=CENTRE,
        )
    assert await menu_round(streams, sessions, consumer="t", centre=CENTRE, block_ms=None) == (
        0,
        0,
    )
    record, events = await record_of(sessions, call)
    assert record is not None
    assert record.outcome == "in_progress"  # the router's, untouched
    assert record.arrived_at == datetime.fromtimestamp(start + 30, UTC)
    assert [e.kind for e in events] == ["menu_started", "arrived", "queued", "menu_ended"]
    assert events[-1].data["variables"]["topic"] == "mfc"
    assert await streams.pending_count(CALL_VARIABLES, GROUP) == 0


async def test_queued_call_the_router_never_logged_keeps_its_menu(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Past the grace period the entry builds the record itself; the router's late arrival
    is then skipped, and what follows it still applies."""
    call, start = call_id(), time.time()
    entry = Entry(  # an entry id taken a grace period ago
        CALL_VARIABLES,
        f"{int((start - QUEUE_GRACE_S - 1) * 1000)}-0",
        menu_fields(call, "queue", started=start, ended=start + 20),
    )
    async with sessions() as session, session.begin():
        assert await record_menu_entry(session, entry, centre=CENTRE, now=time.time()) == (
            "recorded"
        )
    record, _events = await record_of(sessions, call)
    assert record is not None
    assert (record.outcome, record.ended_at) == ("queued", None)
    arrival = r.CallArrived(call, CENTRE, topic="mfc")
    answered = c.CallAnswered(2, call, "1001", 5.0, 4.0)
    async with sessions() as session, session.begin():
        await record_entry(
            session, Entry(ROUTER_LOG, "1-2", router_log(arrival, start + 20)), centre=CENTRE
        )
        await record_entry(
            session,
            Entry(
                ROUTER_LOG, "1-3", router_log(r.AgentAnswered(call, "1001"), start + 25, answered)
            ),
            centre=CENTRE,
        )
    record, events = await record_of(sessions, call)
    assert record is not None
    assert (record.outcome, record.agent_id) == ("answered", "1001")
    assert "arrived" not in [e.kind for e in events]


async def test_unreadable_entry_is_dropped(
    streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await streams.ensure_group(CALL_VARIABLES, GROUP)
    await streams.add(CALL_VARIABLES, {"call_id": "x", "variables": "{}"})  # an old bridge's
    assert await menu_round(streams, sessions, consumer="t", centre=CENTRE, block_ms=None) == (
        0,
        1,
    )
    assert await streams.pending_count(CALL_VARIABLES, GROUP) == 0
    assert (await record_of(sessions, "x"))[0] is None


async def test_recorder_runs_both_streams(
    streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    menu_only, queued, start = call_id(), call_id(), time.time() - 10
    task = asyncio.create_task(run_recorder(streams, sessions, consumer="t", centre=CENTRE))
    try:
        await streams.add(
            CALL_VARIABLES, menu_fields(menu_only, "self_service", started=start, ended=start + 9)
        )
        await streams.add(
            CALL_VARIABLES, menu_fields(queued, "queue", started=start, ended=start + 3)
        )
        await streams.add(ROUTER_LOG, router_log(r.CallArrived(queued, CENTRE), start + 3))
        async with asyncio.timeout(20):
            while True:
                (done, _), (waiting, events) = await asyncio.gather(
                    record_of(sessions, menu_only), record_of(sessions, queued)
                )
                if done is not None and waiting is not None and len(events) == 3:
                    break
                await asyncio.sleep(0.05)  # noqa: ASYNC110 - polling the database
        assert done.outcome == "self_service"
        assert [e.kind for e in events] == ["menu_started", "arrived", "menu_ended"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
