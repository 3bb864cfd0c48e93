"""Resuming callbacks after the router's log is lost: the open callbacks from PostgreSQL, as
the router events that asked for them.

Each event carries the ORIGINAL `requested_at` and `source`, so the router computes the same
due time and deadline as before (a night request stays due from opening time). A callback
that was being dialled when the log was lost is open again: that call was lost with it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.acd.events import CallbackRequested
from services.callbacks.models import OPEN, Callback


async def pending_callback_events(session: AsyncSession, centre: str) -> list[CallbackRequested]:
    """The centre's open callbacks, oldest request first, for a router with an empty log."""
    rows = await session.scalars(
        select(Callback)
        .where(Callback.centre == centre, Callback.status.in_(OPEN))
        .order_by(Callback.requested_at, Callback.callback_id)
    )
    return [requested_event(row) for row in rows]


def requested_event(row: Callback) -> CallbackRequested:
    """The router event asking for this callback, with its original request time and source."""
    return CallbackRequested(
        row.callback_id,
        topic=row.topic,
        language=row.language,
        caller=row.caller,
        call_id=row.call_id or "",
        priority=row.priority,
        requested_at=row.requested_at.timestamp(),
        source=row.source,
    )
