"""Queries of complaints and their timelines shared by the API and the delivery worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints.models import Complaint, ComplaintEvent, DeliveryPreference


def add_event(
    session: AsyncSession,
    complaint: Complaint,
    event: str,
    *,
    at: dt.datetime,
    actor: str,
    note: str | None = None,
) -> None:
    """Append a timeline entry in the caller's transaction."""
    session.add(
        ComplaintEvent(complaint_id=complaint.id, event=event, at=at, actor=actor, note=note)
    )


async def timeline(session: AsyncSession, complaint_id: int) -> list[ComplaintEvent]:
    """A complaint's timeline, oldest first."""
    rows = await session.scalars(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint_id)
        .order_by(ComplaintEvent.at, ComplaintEvent.id)
    )
    return list(rows)


async def by_number(
    session: AsyncSession, number: str, *, for_update: bool = False
) -> Complaint | None:
    query = select(Complaint).where(Complaint.number == number)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def preference(session: AsyncSession, agency_id: int) -> DeliveryPreference | None:
    return await session.get(DeliveryPreference, agency_id)
