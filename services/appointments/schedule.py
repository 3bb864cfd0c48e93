"""Office schedules and free slots: what administrators set, what operators and the voice menu
are offered. The caller owns the transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments import repository
from services.appointments.errors import NotBookable, OutsideSystemError
from services.appointments.mfc import MfcFactory
from services.appointments.models import (
    AppointmentOffice,
    Booking,
    Resource,
    ScheduleException,
    ServiceDuration,
)
from services.appointments.schemas import HoursIn, ResourceOut, ScheduleIn, ScheduleOut, SlotOut
from services.appointments.slots import OfficeSchedule, Slot, slots_between, with_capacity
from services.common.problems import Conflict, InvalidInput, NotFound
from services.directory import repository as directory
from services.directory.models import Agency
from services.directory.service import periods_of

#: How far ahead slots are offered.
HORIZON_DAYS = 30
_NEAREST_DAYS = 14


@dataclass(frozen=True, slots=True)
class Office:
    """A bookable office: its directory entry, booking settings and schedule as pure data."""

    agency: Agency
    settings: AppointmentOffice
    schedule: OfficeSchedule


async def load_office(session: AsyncSession, code: str, *, today: dt.date) -> Office:
    """The office by directory code, or 404 if it does not take bookings."""
    agency = await repository.agency_by_code(session, code)
    settings = await repository.office_of(session, agency.id) if agency else None
    if agency is None or settings is None:
        raise NotFound(f"Офис {code!r} не ведёт запись на приём")
    return Office(agency, settings, await _schedule(session, agency, settings, today))


async def _schedule(
    session: AsyncSession, agency: Agency, settings: AppointmentOffice, today: dt.date
) -> OfficeSchedule:
    rows = await repository.exceptions(session, agency.id, today - dt.timedelta(days=1))
    return OfficeSchedule(
        periods=tuple(periods_of(agency)),
        slot_minutes=settings.slot_minutes,
        closed_days=frozenset(holiday.day for holiday in agency.holidays),
        exceptions={
            row.day: ((row.opens, row.closes),) if row.opens and row.closes else () for row in rows
        },
    )


async def calendar_for(session: AsyncSession, first_day: dt.date, days: int) -> dict[dt.date, str]:
    """The centre's holiday calendar for a span of dates."""
    return await directory.holiday_calendar(session, first_day, first_day + dt.timedelta(days=days))


async def local_slots(
    session: AsyncSession,
    office: Office,
    *,
    minutes: int,
    kind: str,
    first_day: dt.date,
    days: int,
    now: dt.datetime,
    tz: ZoneInfo,
    resource_id: int | None = None,
) -> list[tuple[Slot, int]]:
    """Future slots of an office that keeps its own bookings, with free windows/specialists."""
    calendar = await calendar_for(session, first_day, days)
    slots = slots_between(
        office.schedule, first_day, days, calendar, duration_minutes=minutes, tz=tz, after=now
    )
    if not slots:
        return []
    resources = [
        r.id
        for r in await repository.resources(session, office.agency.id, kind=_resource_kind(kind))
        if resource_id is None or r.id == resource_id
    ]
    taken = await repository.taken_cells(session, resources, slots[0].starts_at, slots[-1].ends_at)
    return with_capacity(slots, resources, taken, office.schedule.slot_minutes)


def _resource_kind(kind: str) -> str:
    return "specialist" if kind == "consultation" else "window"


async def office_slots(
    session: AsyncSession,
    *,
    office_code: str,
    service_code: str,
    kind: str,
    first_day: dt.date,
    days: int,
    now: dt.datetime,
    tz: ZoneInfo,
    mfc: MfcFactory,
) -> list[SlotOut]:
    """Free slots of a service at one office, from our seats or from its outside system."""
    office = await load_office(session, office_code, today=now.date())
    minutes = (await repository.durations(session, office.agency.id)).get(service_code)
    if minutes is None:
        raise NotBookable(f"В офисе {office_code!r} нет записи на услугу {service_code!r}")
    if office.settings.external_url:
        outside = await mfc(office.settings.external_url).slots(
            office=office_code, service=service_code, first_day=first_day, days=days
        )
        pairs = [
            (Slot(s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)), s.free)
            for s in outside
            if s.free > 0 and s.starts_at > now
        ]
    else:
        pairs = await local_slots(
            session,
            office,
            minutes=minutes,
            kind=kind,
            first_day=first_day,
            days=days,
            now=now,
            tz=tz,
        )
    return [_slot_out(office.agency, slot, free) for slot, free in pairs]


def _slot_out(agency: Agency, slot: Slot, free: int) -> SlotOut:
    return SlotOut(
        office=agency.code,
        office_name=agency.name,
        address=agency.address,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        free=free,
    )


async def nearest(
    session: AsyncSession,
    *,
    service_code: str,
    municipality: str,
    count: int,
    now: dt.datetime,
    tz: ZoneInfo,
    mfc: MfcFactory,
) -> tuple[list[SlotOut], list[str]]:
    """The earliest free slots of a service across a municipality's offices, in one call.

    Offices whose outside systems fail are skipped and named, so the operator can still offer
    the others; outside systems are asked concurrently, each bounded by the adapter's timeout."""
    offices = await repository.offices_for(
        session, service_code=service_code, municipality=municipality
    )
    found: list[SlotOut] = []
    unavailable: list[str] = []
    outside: list[tuple[Agency, str]] = []
    for agency, settings, minutes in offices:
        if settings.external_url:
            outside.append((agency, settings.external_url))
            continue
        office = Office(agency, settings, await _schedule(session, agency, settings, now.date()))
        pairs = await local_slots(
            session,
            office,
            minutes=minutes,
            kind="appointment",
            first_day=now.date(),
            days=_NEAREST_DAYS,
            now=now,
            tz=tz,
        )
        found += [_slot_out(agency, slot, free) for slot, free in pairs[:count]]
    results = await asyncio.gather(
        *(
            mfc(url).slots(
                office=agency.code, service=service_code, first_day=now.date(), days=_NEAREST_DAYS
            )
            for agency, url in outside
        ),
        return_exceptions=True,
    )
    for (agency, _url), result in zip(outside, results, strict=True):
        if isinstance(result, OutsideSystemError):
            unavailable.append(f"{agency.name}: {result.detail}")
        elif isinstance(result, BaseException):
            raise result
        else:
            found += [
                _slot_out(
                    agency, Slot(s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)), s.free
                )
                for s in result
                if s.free > 0 and s.starts_at > now
            ][:count]
    found.sort(key=lambda slot: (slot.starts_at, slot.office))
    return found[:count], unavailable


async def save_schedule(
    session: AsyncSession, *, office_code: str, data: ScheduleIn, now: dt.datetime
) -> ScheduleOut:
    """Create or replace an office's booking schedule.

    Windows and specialists are deactivated rather than deleted, so bookings keep their
    resource; the grid cannot change while future bookings exist, since their seats are
    cells of the old grid."""
    agency = await repository.agency_by_code(session, office_code)
    if agency is None:
        raise NotFound(f"No office with code {office_code!r}")
    services = await directory.services_by_code(session, list(data.durations))
    unknown = sorted(set(data.durations) - services.keys())
    if unknown:
        raise InvalidInput(f"Unknown service codes: {', '.join(unknown)}", field="durations")
    settings = await repository.office_of(session, agency.id)
    if settings is None:
        settings = AppointmentOffice(agency_id=agency.id)
        session.add(settings)
    elif settings.slot_minutes != data.slot_minutes and await _has_future_bookings(
        session, agency.id, now
    ):
        raise Conflict(
            "The slot grid cannot change while future bookings exist", field="slot_minutes"
        )
    settings.slot_minutes = data.slot_minutes
    settings.external_url = data.external_url
    await session.flush()
    await session.execute(delete(ServiceDuration).where(ServiceDuration.agency_id == agency.id))
    session.add_all(
        ServiceDuration(agency_id=agency.id, service_id=services[code].id, minutes=minutes)
        for code, minutes in data.durations.items()
    )
    await session.execute(delete(ScheduleException).where(ScheduleException.agency_id == agency.id))
    session.add_all(
        ScheduleException(
            agency_id=agency.id, day=e.day, opens=e.opens, closes=e.closes, note=e.note
        )
        for e in {e.day: e for e in data.exceptions}.values()
    )
    labels = [f"Окно {n}" for n in range(1, data.windows + 1)]
    await _sync_resources(session, agency.id, "window", labels)
    await _sync_resources(session, agency.id, "specialist", list(dict.fromkeys(data.specialists)))
    await session.flush()
    return await schedule_out(session, agency)


async def _has_future_bookings(session: AsyncSession, agency_id: int, now: dt.datetime) -> bool:
    query = select(
        exists().where(
            Booking.agency_id == agency_id, Booking.status == "booked", Booking.ends_at > now
        )
    )
    return bool(await session.scalar(query))


async def _sync_resources(
    session: AsyncSession, agency_id: int, kind: str, labels: list[str]
) -> None:
    existing = {
        r.label: r for r in await repository.resources(session, agency_id, kind=kind, active=False)
    }
    for position, label in enumerate(labels, start=1):
        resource = existing.pop(label, None)
        if resource is None:
            session.add(Resource(agency_id=agency_id, kind=kind, label=label, position=position))
        else:
            resource.position, resource.is_active = position, True
    for resource in existing.values():
        resource.is_active = False


async def schedule_out(session: AsyncSession, agency: Agency) -> ScheduleOut:
    settings = await repository.office_of(session, agency.id)
    if settings is None:
        raise NotFound(f"Офис {agency.code!r} не ведёт запись на приём")
    return ScheduleOut(
        office=agency.code,
        slot_minutes=settings.slot_minutes,
        durations=await repository.durations(session, agency.id),
        resources=[
            ResourceOut(
                id=r.id, kind="window" if r.kind == "window" else "specialist", label=r.label
            )
            for r in await repository.resources(session, agency.id)
        ],
        exceptions=[
            HoursIn(day=e.day, opens=e.opens, closes=e.closes, note=e.note)
            for e in await repository.exceptions(session, agency.id)
        ],
        external_url=settings.external_url,
    )


async def get_schedule(session: AsyncSession, *, office_code: str) -> ScheduleOut:
    agency = await repository.agency_by_code(session, office_code)
    if agency is None:
        raise NotFound(f"No office with code {office_code!r}")
    return await schedule_out(session, agency)
