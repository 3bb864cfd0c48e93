"""Writes callbacks from the router log into PostgreSQL, once per log entry.

It reads the `router-log` stream with its own consumer group (`callbacks`), like the call
records writer: an entry is acknowledged only after its rows are committed, and each row keeps
the id of the last entry applied to it, so a redelivered or replayed entry changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import fields as dataclass_fields
from datetime import datetime
from typing import Any

import structlog
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.callbacks.lifecycle import Change, State, apply_change, at_of, changes_of
from services.callbacks.models import OPEN, Callback, CallbackAttempt
from services.common.lease import Lease
from services.common.streams import Entry, Streams, entry_order
from services.ivr.streams import CALL_VARIABLES
from services.router.wire import ROUTER_LOG

GROUP = "callbacks"
#: One recorder at a time per centre (`<prefix>:stream:callbacks-recorder-lease`).
LEASE = "callbacks-recorder-lease"
LEASE_TTL_MS = 5000
#: The bridge's stream of menu variables per call (`call_id`, `variables` JSON).
#: How far before a request the originating call's menu variables are looked for.
VARIABLES_LOOKBACK_S = 3600.0
_STATE_FIELDS = tuple(f.name for f in dataclass_fields(State))
_log = structlog.get_logger(__name__)


async def record_entry(
    session: AsyncSession, entry: Entry, *, centre: str, streams: Streams | None = None
) -> int:
    """Apply the callback changes of one router-log entry; returns how many were applied.

    With `streams`, a new callback from a call gets that call's menu variables."""
    fields = entry.fields
    event = json.loads(fields.get("body", "{}"))
    outputs = json.loads(fields.get("outputs", "[]"))
    now = float(fields["now"])
    changes = changes_of(fields.get("type", ""), event, now, outputs)
    if not changes:
        return 0
    at = at_of(now)
    rows: dict[str, Callback | None] = {}
    applied = 0
    for change in changes:
        if change.callback_id not in rows:
            row = await session.get(Callback, (centre, change.callback_id), with_for_update=True)
            if row is None and change.kind in ("requested", "scheduled"):
                row = await _new_callback(session, change, centre, now, streams)
            elif row is not None and row.last_entry is not None:
                if entry_order(row.last_entry) >= entry_order(entry.id):
                    row = None  # this entry (or a later one) is in the row already
            rows[change.callback_id] = row
        row = rows[change.callback_id]
        if row is None:
            continue  # a call, not a callback, or a redelivery
        await _apply(session, row, change, entry, at)
        applied += 1
    for row in rows.values():
        if row is not None:
            row.last_entry = entry.id
            row.updated_at = at
    await session.flush()
    return applied


async def _apply(
    session: AsyncSession, row: Callback, change: Change, entry: Entry, at: datetime
) -> None:
    state = State(**{name: getattr(row, name) for name in _STATE_FIELDS})
    apply_change(state, change, at)
    for name in _STATE_FIELDS:
        setattr(row, name, getattr(state, name))
    data = change.data
    if change.kind == "attempted":
        await session.execute(
            insert(CallbackAttempt)
            .values(
                centre=row.centre,
                callback_id=row.callback_id,
                attempt=data["attempt"] or row.attempts,
                agent_id=data["agent_id"],
                result=data["result"],
                at=at,
                source_entry=entry.id,
            )
            .on_conflict_do_nothing(constraint="uq_callback_attempts_source")
        )
    elif change.kind == "finished" and row.status == "merged" and row.merged_into is None:
        row.merged_into = await session.scalar(
            select(Callback.callback_id)
            .where(
                Callback.centre == row.centre,
                Callback.caller == row.caller,
                Callback.callback_id != row.callback_id,
                Callback.status.in_(OPEN),
            )
            .order_by(Callback.requested_at)
            .limit(1)
        )


async def _new_callback(
    session: AsyncSession,
    change: Change,
    centre: str,
    now: float,
    streams: Streams | None,
) -> Callback:
    data = change.data
    call_id = str(data.get("call_id") or "") or None
    variables: dict[str, Any] = {}
    if streams is not None and call_id:
        variables = await menu_variables(streams, call_id, now)
    row = Callback(
        centre=centre,
        callback_id=change.callback_id,
        caller=data["caller"],
        topic=data["topic"],
        language=data.get("language", "ru"),
        priority=data.get("priority", 0),
        source=data["source"],
        status="pending",
        requested_at=at_of(data["requested_at"]),
        attempts=0,
        call_id=call_id,
        variables=variables,
        created_by="router",
        created_at=at_of(now),
        updated_at=at_of(now),
    )
    session.add(row)
    await session.flush()  # the row first: attempts refer to it
    return row


async def menu_variables(streams: Streams, call_id: str, now: float) -> dict[str, Any]:
    """The variables the voice menu left for `call_id` (newest first, within the lookback)."""
    redis: Any = streams.client
    newest = f"{int((now + 60) * 1000)}"
    oldest = f"{int((now - VARIABLES_LOOKBACK_S) * 1000)}"
    entries = await redis.xrevrange(
        streams.key(CALL_VARIABLES), max=newest, min=oldest, count=10_000
    )
    for _entry_id, fields in entries:
        if fields.get("call_id") == call_id:
            try:
                found = json.loads(fields.get("variables") or "{}")
            except json.JSONDecodeError:
                return {}
            return found if isinstance(found, dict) else {}
    return {}


async def run_callbacks_recorder(
    streams: Streams,
    sessions: async_sessionmaker[AsyncSession],
    *,
    consumer: str,
    centre: str,
    lease_ttl_ms: int = LEASE_TTL_MS,
) -> None:
    """Record every router-log entry's callback changes, forever; cancel to stop.

    Every `okno acd` process may run this; a lease lets one record at a time, because a
    callback's entries must be applied in log order (consumers of one group would share them
    out). While PostgreSQL is unreachable entries stay pending and are retried: callbacks go
    on, their rows catch up."""
    lease = Lease(
        streams.client, streams.key(LEASE), ttl_ms=lease_ttl_ms, holder=f"callbacks-{consumer}"
    )
    while True:
        try:
            # Each time: a Redis that lost its data has lost the group too.
            await streams.ensure_group(ROUTER_LOG, GROUP)
            await lease.wait_acquire(poll_s=lease_ttl_ms / 5000)
            await _record_while_held(streams, sessions, lease, consumer=consumer, centre=centre)
        except (OSError, TimeoutError, RedisError) as exc:
            _log.warning("callbacks recorder waiting for Redis", error=type(exc).__name__)
            await asyncio.sleep(1.0)
        finally:
            if lease.held:
                with contextlib.suppress(OSError, TimeoutError, RedisError):
                    await lease.release()


async def _record_while_held(
    streams: Streams,
    sessions: async_sessionmaker[AsyncSession],
    lease: Lease,
    *,
    consumer: str,
    centre: str,
) -> None:
    """Record until the lease is lost. Entries left pending by any consumer (a holder that
    died before acknowledging) come first, in log order, then new ones."""
    renew_every = lease.ttl_ms / 3000
    renewed = time.monotonic()
    block_ms = min(1000, int(lease.ttl_ms / 3))
    while True:
        if time.monotonic() - renewed >= renew_every:
            if not await lease.renew():
                _log.warning("callbacks recorder lease lost", consumer=consumer)
                return
            renewed = time.monotonic()
        try:
            entries = await streams.reclaim(ROUTER_LOG, GROUP, consumer, min_idle_ms=0, count=200)
            if not entries:
                entries = await streams.read(
                    ROUTER_LOG, GROUP, consumer, count=200, block_ms=block_ms
                )
            for entry in entries:
                await _record_one(streams, sessions, entry, centre)
        except (OperationalError, InterfaceError, OSError, TimeoutError, RedisError) as exc:
            _log.warning("callbacks waiting for the database or Redis", error=type(exc).__name__)
            await asyncio.sleep(1.0)


async def _record_one(
    streams: Streams, sessions: async_sessionmaker[AsyncSession], entry: Entry, centre: str
) -> None:
    try:
        async with sessions() as session, session.begin():
            await record_entry(session, entry, centre=centre, streams=streams)
    except (ValueError, KeyError, TypeError, IntegrityError, DataError) as exc:
        # A malformed entry would fail forever: log it and move on rather than block callbacks.
        _log.error("unrecordable router-log entry", entry=entry.id, error=type(exc).__name__)
    await streams.ack(ROUTER_LOG, GROUP, entry.id)
