"""Writes call records from the router log into PostgreSQL, once per log entry (and, through
`menu_records`, the voice menu's part from the `call-variables` stream).

It reads the `router-log` stream with its own consumer group, so records survive a restart of
any process: an entry is acknowledged only after its rows are committed, and an entry whose
rows already exist (a redelivery) changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.calls.menu_records import run_menu_recorder
from services.calls.models import CallEvent, CallRecord
from services.calls.timeline import Step, Summary, apply_step, steps_of
from services.common.streams import Entry, Streams
from services.router.wire import ROUTER_LOG

GROUP = "recorder"
_log = structlog.get_logger(__name__)
_SUMMARY_FIELDS = tuple(Summary.__dataclass_fields__)


async def record_entry(session: AsyncSession, entry: Entry, *, centre: str) -> int:
    """Store the timeline steps of one router-log entry; returns how many were new."""
    fields = entry.fields
    event = json.loads(fields.get("body", "{}"))
    outputs = json.loads(fields.get("outputs", "[]"))
    steps = steps_of(fields.get("type", ""), event, float(fields["now"]), outputs)
    if not steps:
        return 0
    seen = await session.scalar(
        select(CallEvent.id)
        .where(CallEvent.centre == centre, CallEvent.source_entry == entry.id)
        .limit(1)
    )
    if seen is not None:
        return 0
    calls: dict[str, CallRecord] = {}
    for position, step in enumerate(steps):
        record = calls.get(step.call_id)
        if record is None:
            record = await session.get(CallRecord, (centre, step.call_id), with_for_update=True)
            if record is not None and step.kind == "arrived":
                continue  # announced again by a restarted bridge: the call is already known
            if record is None and (record := _new_call(step, event, centre)) is not None:
                session.add(record)
                await session.flush()  # the call row first: timeline rows refer to it
        if record is None:
            continue  # a step of a call whose arrival this centre never saw (e.g. callbacks)
        calls[step.call_id] = record
        summary = Summary(**{name: getattr(record, name) for name in _SUMMARY_FIELDS})
        apply_step(summary, step)
        for name in _SUMMARY_FIELDS:
            setattr(record, name, getattr(summary, name))
        session.add(
            CallEvent(
                centre=centre,
                call_id=step.call_id,
                at=step.at,
                kind=step.kind,
                data=step.data,
                source_entry=entry.id,
                position=position,
            )
        )
    await session.flush()
    return len(steps)


def _new_call(step: Step, event: dict[str, Any], centre: str) -> CallRecord | None:
    if step.kind != "arrived":
        return None
    record = CallRecord(
        call_id=step.call_id,
        centre=str(event.get("centre", "")),
        did=str(event.get("did", "")),
        caller=str(event.get("caller", "")),
        topic=str(event.get("topic", "")),
        language=str(event.get("language", "")),
        priority=int(event.get("priority", 0)),
        arrived_at=step.at,
        offers=0,
        outcome="in_progress",
    )
    return record


async def run_recorder(
    streams: Streams, sessions: async_sessionmaker[AsyncSession], *, consumer: str, centre: str
) -> None:
    """Record every router-log entry and every menu's `call-variables` entry, forever;
    cancel to stop.

    While PostgreSQL is unreachable entries stay pending and are retried: routing goes on,
    records catch up.
    """
    async with asyncio.TaskGroup() as group:
        group.create_task(_run_router_log(streams, sessions, consumer=consumer, centre=centre))
        group.create_task(run_menu_recorder(streams, sessions, consumer=consumer, centre=centre))


async def _run_router_log(
    streams: Streams, sessions: async_sessionmaker[AsyncSession], *, consumer: str, centre: str
) -> None:
    await streams.ensure_group(ROUTER_LOG, GROUP)
    while True:
        try:
            entries = await streams.read_pending(ROUTER_LOG, GROUP, consumer, count=200)
            if not entries:
                entries = await streams.read(ROUTER_LOG, GROUP, consumer, count=200, block_ms=1000)
            for entry in entries:
                await _record_one(streams, sessions, entry, centre)
        except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
            _log.warning("call records waiting for the database", error=type(exc).__name__)
            await asyncio.sleep(1.0)


async def _record_one(
    streams: Streams, sessions: async_sessionmaker[AsyncSession], entry: Entry, centre: str
) -> None:
    try:
        async with sessions() as session, session.begin():
            await record_entry(session, entry, centre=centre)
    except (ValueError, KeyError, json.JSONDecodeError, IntegrityError, DataError) as exc:
        # A malformed entry would fail forever: log it and move on rather than block records.
        _log.error("unrecordable router-log entry", entry=entry.id, error=type(exc).__name__)
    await streams.ack(ROUTER_LOG, GROUP, entry.id)
