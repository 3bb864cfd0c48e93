"""Reminders the day before a visit, each sent once per channel.

A round claims due bookings by stamping `sms_reminder_at` / `email_reminder_at` in a committed
transaction (`FOR UPDATE SKIP LOCKED`, so parallel workers split the work), then sends. A send
that fails gives its claim back for the next round. A crash between claim and send loses that
one reminder rather than repeating it: a citizen is better served by one missing reminder than
by a duplicate, and the booking's own confirmation was given during the call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from services.appointments.models import Booking
from services.appointments.notify import Mailer, NotificationFailed, SmsGateway
from services.appointments.service import spoken_time
from services.common.db import transaction
from services.directory.models import Agency

_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ReminderReport:
    sms_sent: int = 0
    email_sent: int = 0
    failed: int = 0


@dataclass(frozen=True, slots=True)
class _Due:
    booking_id: int
    code: str
    contact: str
    starts_at: dt.datetime
    office_name: str
    address: str


def tomorrow(now: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The next local calendar day as an instant range."""
    day = now.astimezone(tz).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def reminder_text(due: _Due, tz: ZoneInfo) -> str:
    """The SMS and mail body: when, where and the code, nothing else personal."""
    return (
        f"Напоминаем: завтра, {spoken_time(due.starts_at.astimezone(tz))}, приём — "
        f"{due.office_name}, {due.address}. Код записи {due.code}. "
        f"Если не сможете прийти, отмените запись по телефону центра."
    )


async def _claim(
    session: AsyncSession,
    stamp: InstrumentedAttribute[Any],
    contact: InstrumentedAttribute[Any],
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    batch: int,
) -> list[_Due]:
    start, end = tomorrow(now, tz)
    due = (
        select(Booking.id)
        .where(
            Booking.status == "booked",
            Booking.consent_at.is_not(None),
            contact.is_not(None),
            stamp.is_(None),
            Booking.starts_at >= start,
            Booking.starts_at < end,
        )
        .order_by(Booking.starts_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    claimed = (
        await session.execute(
            update(Booking)
            .where(Booking.id.in_(due))
            .values({stamp.key: now})
            .returning(Booking.id, Booking.code, contact, Booking.starts_at, Booking.agency_id)
        )
    ).all()
    offices = {
        agency.id: agency
        for agency in await session.scalars(
            select(Agency).where(Agency.id.in_({row.agency_id for row in claimed}))
        )
    }
    return [
        _Due(
            row.id,
            row.code,
            row[2],
            row.starts_at,
            offices[row.agency_id].name,
            offices[row.agency_id].address,
        )
        for row in claimed
    ]


async def _release(
    sessions: async_sessionmaker[AsyncSession],
    stamp: InstrumentedAttribute[Any],
    booking_id: int,
    claimed_at: dt.datetime,
) -> None:
    async with transaction(sessions) as session:
        await session.execute(
            update(Booking)
            .where(Booking.id == booking_id, stamp == claimed_at)
            .values({stamp.key: None})
        )


async def send_reminders(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    tz: ZoneInfo,
    sms: SmsGateway | None,
    mailer: Mailer | None,
    batch: int = 200,
) -> ReminderReport:
    """One round: remind everyone booked for tomorrow who gave a contact and consent."""
    sms_sent = email_sent = failed = 0
    if sms is not None:
        async with transaction(sessions) as session:
            due = await _claim(
                session, Booking.sms_reminder_at, Booking.citizen_phone, now=now, tz=tz, batch=batch
            )
        for item in due:
            try:
                await sms.send(phone=item.contact, text=reminder_text(item, tz))
                sms_sent += 1
            except NotificationFailed as exc:
                failed += 1
                _log.warning("sms reminder failed", booking_id=item.booking_id, error=str(exc))
                await _release(sessions, Booking.sms_reminder_at, item.booking_id, now)
    if mailer is not None:
        async with transaction(sessions) as session:
            due = await _claim(
                session,
                Booking.email_reminder_at,
                Booking.citizen_email,
                now=now,
                tz=tz,
                batch=batch,
            )
        for item in due:
            try:
                await mailer.send(
                    to=item.contact,
                    subject="Напоминание о записи на приём",
                    body=reminder_text(item, tz),
                )
                email_sent += 1
            except NotificationFailed as exc:
                failed += 1
                _log.warning("mail reminder failed", booking_id=item.booking_id, error=str(exc))
                await _release(sessions, Booking.email_reminder_at, item.booking_id, now)
    return ReminderReport(sms_sent, email_sent, failed)
