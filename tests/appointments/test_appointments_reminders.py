"""Reminders sent once through the HTTP SMS gateway and SMTP; slots from the stored calendar."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments import schedule
from services.appointments.mfc import http_mfc
from services.appointments.notify import HttpSmsGateway, NotifySettings, SmtpMailer
from services.appointments.reminders import send_reminders
from services.appointments.worker import run_worker
from services.common.db import transaction
from services.common.settings import Settings
from services.directory.models import PublicHoliday
from tests.appointments.conftest import OfficeFactory, SmsOutbox, Tokens
from tests.appointments.helpers import book, booking_body, free_slots

pytestmark = pytest.mark.integration


async def test_slots_follow_the_stored_holiday_calendar(
    make_office: OfficeFactory, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    office = await make_office()
    # A random far-future week, so no other test's calendar rows can interfere.
    monday = dt.date(2060 + secrets.randbelow(40), 1, 1)
    monday += dt.timedelta(days=(7 - monday.weekday()) % 7)
    shortened, holiday = monday + dt.timedelta(days=1), monday + dt.timedelta(days=2)
    async with transaction(sessions) as session:
        await session.execute(
            insert(PublicHoliday)
            .values(
                [
                    {"day": shortened, "kind": "shortened", "name": "Предпраздничный"},
                    {"day": holiday, "kind": "holiday", "name": "Праздник"},
                ]
            )
            .on_conflict_do_nothing()
        )
    now = dt.datetime.combine(monday, dt.time(0, 30), tzinfo=settings.tz)
    async with transaction(sessions) as session:
        slots = await schedule.office_slots(
            session,
            office_code=office,
            service_code="snils",
            kind="appointment",
            first_day=monday,
            days=4,
            now=now,
            tz=settings.tz,
            mfc=http_mfc,
        )
    last_end: dict[dt.date, dt.time] = {}
    for slot in slots:
        local = slot.starts_at.astimezone(settings.tz)
        assert slot.starts_at.utcoffset() == settings.tz.utcoffset(local.replace(tzinfo=None))
        last_end[local.date()] = slot.ends_at.astimezone(settings.tz).time()
    assert last_end == {
        monday: dt.time(18),
        shortened: dt.time(17),
        monday + dt.timedelta(days=3): dt.time(18),
    }
    first = min(s.starts_at for s in slots)
    assert first.astimezone(dt.UTC) == dt.datetime.combine(monday, dt.time(9), tzinfo=settings.tz)


async def test_reminder_sent_once_per_channel(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sms_gateway: tuple[str, SmsOutbox],
    smtp_server: tuple[int, Any],
) -> None:
    gateway_url, outbox = sms_gateway
    smtp_port, inbox = smtp_server
    office = await make_office()
    now = dt.datetime.now(settings.tz)
    tomorrow = (now + dt.timedelta(days=1)).date()
    slots = await free_slots(http, appointments_url, tokens.operator, office)
    slot = next(s for s in slots if s["starts_at"].startswith(tomorrow.isoformat()))
    phone = f"+7913{secrets.randbelow(10**7):07d}"
    email = f"citizen-{secrets.token_hex(3)}@example.org"
    made = await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(
            office, slot["starts_at"], citizen={"phone": phone, "email": email}, consent=True
        ),
    )
    code = made.json()["code"]
    sms = HttpSmsGateway(gateway_url)
    mailer = SmtpMailer(host="127.0.0.1", port=smtp_port, sender="okno@example.org")

    outbox.fail = True
    failed = await send_reminders(sessions, now=now, tz=settings.tz, sms=sms, mailer=None)
    assert failed.failed >= 1 and not [m for m in outbox.messages if m["to"] == phone]
    outbox.fail = False

    for minutes in (0, 1, 2):
        await send_reminders(
            sessions,
            now=now + dt.timedelta(minutes=minutes),
            tz=settings.tz,
            sms=sms,
            mailer=mailer,
        )
    texts = [m["text"] for m in outbox.messages if m["to"] == phone]
    assert len(texts) == 1 and code in texts[0] and "завтра" in texts[0]
    mails = [message for message in inbox.messages if message["To"] == email]
    assert len(mails) == 1 and mails[0]["Subject"]


async def test_no_reminder_for_a_later_day(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    sms_gateway: tuple[str, SmsOutbox],
) -> None:
    gateway_url, outbox = sms_gateway
    office = await make_office()
    now = dt.datetime.now(settings.tz)
    later = (now + dt.timedelta(days=3)).date()
    slots = await free_slots(http, appointments_url, tokens.operator, office)
    slot = next(s for s in slots if s["starts_at"].startswith(later.isoformat()))
    phone = f"+7913{secrets.randbelow(10**7):07d}"
    await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(office, slot["starts_at"], citizen={"phone": phone}, consent=True),
    )
    await send_reminders(
        sessions, now=now, tz=settings.tz, sms=HttpSmsGateway(gateway_url), mailer=None
    )
    assert not [m for m in outbox.messages if m["to"] == phone]


async def test_worker_sends_reminders_until_stopped(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    settings: Settings,
    redis_prefix: str,
    sms_gateway: tuple[str, SmsOutbox],
) -> None:
    gateway_url, outbox = sms_gateway
    office = await make_office()
    tomorrow = (dt.datetime.now(settings.tz) + dt.timedelta(days=1)).date()
    slots = await free_slots(http, appointments_url, tokens.operator, office)
    slot = next(s for s in slots if s["starts_at"].startswith(tomorrow.isoformat()))
    phone = f"+7913{secrets.randbelow(10**7):07d}"
    await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(office, slot["starts_at"], citizen={"phone": phone}, consent=True),
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(
        run_worker(
            settings.model_copy(update={"centre_id": redis_prefix}),
            NotifySettings(sms_gateway_url=gateway_url),
            database_url=settings.database_url or "",
            redis_url=settings.redis_url or "",
            stop=stop,
            interval=0.1,
        )
    )
    try:
        for _ in range(200):  # up to 10 s
            if [m for m in outbox.messages if m["to"] == phone]:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # a few more rounds: still one message
    finally:
        stop.set()
        await worker
    assert len([m for m in outbox.messages if m["to"] == phone]) == 1
