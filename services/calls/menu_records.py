"""Writes the voice menu's part of call records from the `call-variables` stream.

Same rules as the router-log writer: its own consumer group, an entry acknowledged only after
its rows are committed, and an entry whose rows exist already (a redelivery) changes nothing.
A queued call's record comes from the router log, which may lag behind the menu's entry: the
entry then waits (stays pending) until the record exists, and past `QUEUE_GRACE_S` builds the
record itself, so the caller's choices are never lost.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Literal

import structlog
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.calls.menu import MenuCall, menu_call, menu_steps
from services.calls.models import CallEvent, CallRecord
from services.common.streams import Entry, Streams, entry_order
from services.ivr.streams import CALL_VARIABLES

GROUP = "recorder"
QUEUE_GRACE_S = 300.0
"""How long a queued call's menu entry waits for the router log to create its record."""
RECLAIM_IDLE_MS = 60_000
_log = structlog.get_logger(__name__)
Result = Literal["recorded", "seen", "waiting"]


def source_of(entry: Entry) -> str:
    """The timeline rows' source key: stream ids of different streams may coincide."""
    return f"cv:{entry.id}"


def entry_time(entry: Entry) -> float:
    """When Redis took the entry (Unix seconds, from its id)."""
    return entry_order(entry.id)[0] / 1000


async def record_menu_entry(
    session: AsyncSession, entry: Entry, *, centre: str, now: float
) -> Result:
    """Store one call's menu steps (and, for a call that ended in the menu, its record)."""
    call = menu_call(entry.fields)
    source = source_of(entry)
    record = await session.get(CallRecord, (centre, call.call_id), with_for_update=True)
    if record is None:
        if call.queued and now - entry_time(entry) < QUEUE_GRACE_S:
            return "waiting"
        session.add(_new_record(call, centre))
        await session.flush()  # the call row first: timeline rows refer to it
    else:  # steps of this entry can only exist where the call row does (a foreign key)
        seen = await session.scalar(
            select(CallEvent.id)
            .where(CallEvent.centre == centre, CallEvent.source_entry == source)
            .limit(1)
        )
        if seen is not None:
            return "seen"
    for position, step in enumerate(menu_steps(call)):
        session.add(
            CallEvent(
                centre=centre,
                call_id=call.call_id,
                at=step.at,
                kind=step.kind,
                data=step.data,
                source_entry=source,
                position=position,
            )
        )
    await session.flush()
    return "recorded"


def _new_record(call: MenuCall, centre: str) -> CallRecord:
    """A record from the menu alone: a call that ended there, or a queued call the router
    log never told of (it joined the queue when the menu ended)."""
    return CallRecord(
        centre=centre,
        call_id=call.call_id,
        did=call.did[:32],
        caller=call.caller[:32],
        topic=call.topic,
        language=call.variables.get("language", "")[:8],
        priority=0,
        arrived_at=call.ended_at if call.queued else call.started_at,
        ended_at=None if call.queued else call.ended_at,
        offers=0,
        outcome=call.record_outcome,
        hangup_side=call.hangup_side,
    )


async def run_menu_recorder(
    streams: Streams,
    sessions: async_sessionmaker[AsyncSession],
    *,
    consumer: str,
    centre: str,
    retry_after: float = 1.0,
) -> None:
    """Record every `call-variables` entry, forever; cancel to stop."""
    await streams.ensure_group(CALL_VARIABLES, GROUP)
    while True:
        try:
            waiting, fresh = await menu_round(streams, sessions, consumer=consumer, centre=centre)
        except (OperationalError, InterfaceError, OSError, TimeoutError, RedisError) as exc:
            _log.warning("menu call records waiting for the servers", error=type(exc).__name__)
            waiting, fresh = 1, 0
        except Exception:
            # The router runs in the same task group: menu records must never stop routing.
            _log.exception("menu call records round failed")
            waiting, fresh = 1, 0
        if waiting and not fresh:
            await asyncio.sleep(retry_after)


async def menu_round(
    streams: Streams,
    sessions: async_sessionmaker[AsyncSession],
    *,
    consumer: str,
    centre: str,
    block_ms: int | None = 1000,
) -> tuple[int, int]:
    """Entries waiting for their record (own, or left by a dead consumer), then new ones;
    returns how many still wait and how many new entries were read."""
    entries, fresh = await streams.backlog_then_new(
        CALL_VARIABLES,
        GROUP,
        consumer,
        reclaim_idle_ms=RECLAIM_IDLE_MS,
        backlog=500,
        count=200,
        block_ms=block_ms,
    )
    waiting = 0
    for entry in entries:
        waiting += not await _record_one(streams, sessions, entry, centre)
    return waiting, fresh


async def _record_one(
    streams: Streams, sessions: async_sessionmaker[AsyncSession], entry: Entry, centre: str
) -> bool:
    """Record and acknowledge one entry; False when it waits for the router's record."""
    now = datetime.now(UTC).timestamp()
    try:
        async with sessions() as session, session.begin():
            result = await record_menu_entry(session, entry, centre=centre, now=now)
    except IntegrityError:
        # The router-log writer created the same call at the same moment: try again.
        _log.info("menu call record raced the router log", entry=entry.id)
        return False
    except (ValueError, KeyError, json.JSONDecodeError, DataError) as exc:
        _log.error("unrecordable call-variables entry", entry=entry.id, error=type(exc).__name__)
        result = "seen"
    if result == "waiting":
        return False
    await streams.ack(CALL_VARIABLES, GROUP, entry.id)
    return True
