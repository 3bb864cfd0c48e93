"""Booking, cancelling, rescheduling and attendance. The caller owns the transaction.

Capacity is never checked in Python and then written: a booking row and its seats are inserted
in the caller's transaction, and the seats' primary key decides who gets a contested window.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments import repository
from services.appointments.errors import BookingClosed, NotBookable, SlotTaken
from services.appointments.mfc import MfcFactory
from services.appointments.models import Booking
from services.appointments.schedule import HORIZON_DAYS, Office, calendar_for, load_office
from services.appointments.schemas import BookingIn, BookingOut, CitizenOut, RescheduleIn
from services.appointments.slots import Slot, day_slots
from services.common.problems import Conflict, NotFound

_CODE_ATTEMPTS = 8
# Each retry follows a concurrent booking that committed cells we wanted, so retries are few;
# the bound only guards against a pathological stream of partial conflicts.
_SEAT_ATTEMPTS = 60


def new_code() -> str:
    """Six random digits: easy to say and to key in on a phone."""
    return f"{secrets.randbelow(1_000_000):06d}"


async def _validated_slot(
    session: AsyncSession,
    office: Office,
    *,
    service_code: str,
    starts_at: dt.datetime,
    now: dt.datetime,
    tz: ZoneInfo,
) -> tuple[int, Slot]:
    """The service's id and the slot starting at `starts_at`, if the schedule has one."""
    service = await repository.service_by_code(session, service_code)
    minutes = (await repository.durations(session, office.agency.id)).get(service_code)
    if service is None or minutes is None:
        raise NotBookable(f"В этом офисе нет записи на услугу {service_code!r}", field="service")
    local = starts_at.astimezone(tz)
    if local <= now or local.date() > now.date() + dt.timedelta(days=HORIZON_DAYS):
        raise NotBookable(
            f"Запись возможна на время после текущего и не дальше {HORIZON_DAYS} дней",
            field="starts_at",
        )
    if office.settings.external_url:
        # The outside system owns that office's grid; it refuses a wrong time itself.
        return service.id, Slot(local, local + dt.timedelta(minutes=minutes))
    calendar = await calendar_for(session, local.date(), 1)
    for slot in day_slots(office.schedule, local.date(), calendar, duration_minutes=minutes, tz=tz):
        if slot.starts_at == local:
            return service.id, slot
    raise NotBookable("В это время офис не ведёт приём по этой услуге", field="starts_at")


async def _take_seats(
    session: AsyncSession, booking: Booking, office: Office, slot: Slot, resource_id: int | None
) -> int:
    """Hold the slot's cells on the first free resource; SlotTaken if there is none.

    A one-cell visit is inserted whole or not at all, so it needs no savepoint; a longer one
    may win some cells and lose others to a concurrent booking, and rolls back to retry."""
    cells = slot.cells(office.schedule.slot_minutes)
    kind = "specialist" if booking.kind == "consultation" else "window"
    for _attempt in range(_SEAT_ATTEMPTS):
        savepoint = await session.begin_nested() if len(cells) > 1 else None
        candidate, inserted = await repository.try_take_seats(
            session,
            booking_id=booking.id,
            agency_id=office.agency.id,
            kind=kind,
            resource_id=resource_id,
            first_cell=cells[0],
            cells=len(cells),
            step_minutes=office.schedule.slot_minutes,
        )
        if candidate is not None and inserted == len(cells):
            if savepoint is not None:
                await savepoint.commit()
            return candidate
        if savepoint is not None:
            await savepoint.rollback()
        if candidate is None:
            break
    raise SlotTaken


async def _insert_booking(session: AsyncSession, values: dict[str, Any]) -> tuple[Booking, bool]:
    """Insert with a fresh code; (booking, True), or (the earlier booking, False) when its
    idempotency key was used already.

    ON CONFLICT DO NOTHING covers both unique rules (active code, idempotency key) without a
    savepoint; a clash of codes, rare with a million of them, just draws another."""
    key = values.get("idempotency_key")
    for _attempt in range(_CODE_ATTEMPTS):
        inserted = await session.scalar(
            insert(Booking)
            .values(code=new_code(), **values)
            .on_conflict_do_nothing()
            .returning(Booking)
        )
        if inserted is not None:
            return inserted, True
        if key:
            earlier = await repository.booking_by_key(session, key)
            if earlier is not None:
                return earlier, False
    raise Conflict("Не удалось выдать код записи, повторите попытку")


async def book(
    session: AsyncSession,
    *,
    data: BookingIn,
    actor_id: int | None,
    idempotency_key: str | None,
    now: dt.datetime,
    tz: ZoneInfo,
    mfc: MfcFactory,
) -> tuple[Booking, bool]:
    """Book a visit; returns the booking and whether it is new (False: idempotent replay)."""
    if idempotency_key:
        earlier = await repository.booking_by_key(session, idempotency_key)
        if earlier is not None:
            return earlier, False
    office = await load_office(session, data.office, today=now.date())
    service_id, slot = await _validated_slot(
        session, office, service_code=data.service, starts_at=data.starts_at, now=now, tz=tz
    )
    has_data = any((data.citizen.name, data.citizen.phone, data.citizen.email))
    booking, created = await _insert_booking(
        session,
        {
            "agency_id": office.agency.id,
            "service_id": service_id,
            "kind": data.kind,
            "form": data.form,
            "channel": data.channel,
            "status": "booked",
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "citizen_name": data.citizen.name,
            "citizen_phone": data.citizen.phone,
            "citizen_email": data.citizen.email,
            "consent_at": now if has_data else None,
            "idempotency_key": idempotency_key,
            "created_by": actor_id,
        },
    )
    if not created:
        return booking, False
    if office.settings.external_url:
        booking.external_ref = await mfc(office.settings.external_url).book(
            office=data.office,
            service=data.service,
            starts_at=slot.starts_at,
            reference=booking.code,
        )
    else:
        booking.resource_id = await _take_seats(session, booking, office, slot, data.specialist_id)
    await session.flush()
    return booking, True


async def active(session: AsyncSession, booking_id: int) -> Booking:
    """A booking, locked for change, that is still to happen."""
    booking = await repository.booking(session, booking_id, lock=True)
    if booking is None:
        raise NotFound(f"Запись {booking_id} не найдена")
    if booking.status != "booked":
        raise BookingClosed("Запись уже отменена или завершена", booking_status=booking.status)
    return booking


async def cancel(
    session: AsyncSession, *, booking_id: int, now: dt.datetime, mfc: MfcFactory
) -> Booking:
    """Cancel and free the seats at once, so the time can be offered to someone else."""
    booking = await active(session, booking_id)
    office = await repository.office_of(session, booking.agency_id)
    if office is not None and office.external_url and booking.external_ref:
        await mfc(office.external_url).cancel(external_id=booking.external_ref)
    await repository.release_seats(session, booking.id)
    booking.status, booking.closed_at = "cancelled", now
    await session.flush()
    return booking


async def reschedule(
    session: AsyncSession,
    *,
    booking_id: int,
    data: RescheduleIn,
    now: dt.datetime,
    tz: ZoneInfo,
    mfc: MfcFactory,
) -> Booking:
    """Move a booking in one transaction: the old seats are released and the new ones taken
    together, so a lost race leaves the booking where it was (the caller rolls back)."""
    booking = await active(session, booking_id)
    agency, service, _resource = await repository.names(
        session, agency_id=booking.agency_id, service_id=booking.service_id, resource_id=None
    )
    office = await load_office(session, agency.code, today=now.date())
    _service_id, slot = await _validated_slot(
        session, office, service_code=service.code, starts_at=data.starts_at, now=now, tz=tz
    )
    if office.settings.external_url:
        system = mfc(office.settings.external_url)
        new_ref = await system.book(
            office=agency.code,
            service=service.code,
            starts_at=slot.starts_at,
            reference=booking.code,
        )
        if booking.external_ref:
            await system.cancel(external_id=booking.external_ref)
        booking.external_ref = new_ref
    else:
        await repository.release_seats(session, booking.id)
        specialist = data.specialist_id
        if specialist is None and booking.kind == "consultation":
            specialist = booking.resource_id
        booking.resource_id = await _take_seats(session, booking, office, slot, specialist)
    booking.starts_at, booking.ends_at = slot.starts_at, slot.ends_at
    booking.sms_reminder_at = booking.email_reminder_at = None
    await session.flush()
    return booking


async def mark_attendance(
    session: AsyncSession, *, booking_id: int, attended: bool, now: dt.datetime
) -> Booking:
    """The office marks a visit as attended or a no-show, once it has begun."""
    booking = await active(session, booking_id)
    if booking.starts_at > now:
        raise Conflict("Отметить явку можно только после начала приёма", field="attended")
    booking.status, booking.closed_at = ("attended" if attended else "no_show"), now
    await session.flush()
    return booking


_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def spoken_time(at: dt.datetime) -> str:
    """A date and time as an operator says it: «3 декабря в 10:30»."""
    return f"{at.day} {_MONTHS[at.month - 1]} в {at:%H:%M}"


async def to_out(
    session: AsyncSession, booking: Booking, *, personal: bool, tz: ZoneInfo
) -> BookingOut:
    """The response for a booking; citizen data only when `personal` (the caller audits it)."""
    agency, service, resource = await repository.names(
        session,
        agency_id=booking.agency_id,
        service_id=booking.service_id,
        resource_id=booking.resource_id,
    )
    local = booking.starts_at.astimezone(tz)
    messages = {
        "booked": f"Вы записаны: {agency.name}, {agency.address}, {spoken_time(local)}. "
        f"Код записи {' '.join(booking.code)}.",
        "cancelled": f"Запись на {spoken_time(local)} отменена.",
        "attended": "Приём состоялся.",
        "no_show": "Гражданин не пришёл на приём.",
    }
    return BookingOut(
        id=booking.id,
        code=booking.code,
        office=agency.code,
        office_name=agency.name,
        address=agency.address,
        service=service.code,
        service_name=service.name,
        kind=booking.kind,
        form=booking.form,
        channel=booking.channel,
        status=booking.status,
        starts_at=local,
        ends_at=booking.ends_at.astimezone(tz),
        resource=resource.label if resource else None,
        citizen=CitizenOut(
            name=booking.citizen_name,
            phone=booking.citizen_phone,
            email=booking.citizen_email,
            consent_at=booking.consent_at,
        )
        if personal
        else None,
        message=messages[booking.status],
    )
