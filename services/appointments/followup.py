"""The satisfaction follow-up hook (R15): after an attended visit, hand the surveys work the
booking to ask about, once.

The hook carries ids and questions only; the surveys service reads the contact from the
booking itself (audited), and only if the citizen consented (R19).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.models import Booking
from services.common.db import transaction
from services.common.streams import Streams

FOLLOWUP_STREAM = "appointments.followup"

#: R15 questions this feature can answer for: how booking went and whether the time was kept.
QUESTIONS = (
    ("booking_easy", "Легко ли было записаться на приём?"),
    ("time_kept", "Приняли ли вас в назначенное время?"),
)


@dataclass(frozen=True, slots=True)
class FollowUp:
    booking_id: int
    agency_id: int
    service_id: int
    channel: str
    has_consent: bool
    ended_at: dt.datetime


class FollowUpSink(Protocol):
    async def publish(self, followup: FollowUp) -> None: ...


class StreamSink:
    """Publishes follow-ups to a Redis stream the surveys service consumes."""

    def __init__(self, streams: Streams) -> None:
        self._streams = streams

    async def publish(self, followup: FollowUp) -> None:
        await self._streams.add(
            FOLLOWUP_STREAM,
            {
                "booking_id": str(followup.booking_id),
                "agency_id": str(followup.agency_id),
                "service_id": str(followup.service_id),
                "channel": followup.channel,
                "has_consent": "1" if followup.has_consent else "0",
                "ended_at": followup.ended_at.isoformat(),
                "questions": ",".join(key for key, _text in QUESTIONS),
            },
        )


async def _claim(session: AsyncSession, *, now: dt.datetime, batch: int) -> list[FollowUp]:
    due = (
        select(Booking.id)
        .where(Booking.status == "attended", Booking.followup_at.is_(None), Booking.ends_at <= now)
        .order_by(Booking.ends_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    rows = (
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(due))
            .values(followup_at=now)
            .returning(
                Booking.id,
                Booking.agency_id,
                Booking.service_id,
                Booking.channel,
                Booking.consent_at,
                Booking.ends_at,
            )
        )
    ).all()
    return [
        FollowUp(
            row.id,
            row.agency_id,
            row.service_id,
            row.channel,
            row.consent_at is not None,
            row.ends_at,
        )
        for row in rows
    ]


async def publish_followups(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    sink: FollowUpSink,
    batch: int = 200,
) -> int:
    """One round: claim attended visits that have ended and publish each once."""
    async with transaction(sessions) as session:
        due = await _claim(session, now=now, batch=batch)
    for item in due:
        try:
            await sink.publish(item)
        except Exception:
            async with transaction(sessions) as session:
                await session.execute(
                    update(Booking)
                    .where(Booking.id == item.booking_id, Booking.followup_at == now)
                    .values(followup_at=None)
                )
            raise
    return len(due)
