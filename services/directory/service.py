"""Directory logic: search with "open now", writes and imports. The caller owns the transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import record_audit
from services.common.problems import InvalidInput
from services.directory import repository
from services.directory.hours import WEEKDAYS, Period, open_state
from services.directory.models import Agency, AgencyHoliday, AgencyHours, Service
from services.directory.schemas import (
    AgencyIn,
    AgencyOut,
    DirectoryFile,
    ImportReport,
    Interval,
    OpenNow,
    ServiceOut,
    empty_week,
)

_CALENDAR_SPAN = dt.timedelta(days=15)


def periods_of(agency: Agency) -> list[Period]:
    """The office's weekly hours as pure data."""
    return [Period(h.weekday, h.opens, h.closes, h.break_start, h.break_end) for h in agency.hours]


def to_out(agency: Agency, *, now: dt.datetime, calendar: dict[dt.date, str]) -> AgencyOut:
    """The public view of an office with its open state at `now` (centre's local time)."""
    week = empty_week()
    for h in agency.hours:
        week[WEEKDAYS[h.weekday]].append(
            Interval(open=h.opens, close=h.closes, break_start=h.break_start, break_end=h.break_end)
        )
    state = open_state(
        periods_of(agency),
        now,
        closed_days=frozenset(holiday.day for holiday in agency.holidays),
        calendar=calendar,
    )
    return AgencyOut(
        id=agency.id,
        code=agency.code,
        name=agency.name,
        kind=agency.kind,
        municipality=agency.municipality.name,
        address=agency.address,
        phones=list(agency.phones),
        email=agency.email,
        website=agency.website,
        notes=agency.notes,
        hours=week,
        holidays=[holiday.day for holiday in agency.holidays],
        services=[ServiceOut.model_validate(s) for s in agency.services],
        open_now=OpenNow(is_open=state.is_open, reason=state.reason, changes_at=state.changes_at),
    )


async def calendar_around(session: AsyncSession, now: dt.datetime) -> dict[dt.date, str]:
    """The holiday calendar for the two weeks an open-state lookup may look ahead."""
    return await repository.holiday_calendar(session, now.date(), (now + _CALENDAR_SPAN).date())


async def search(
    session: AsyncSession,
    *,
    now: dt.datetime,
    municipality: str | None,
    service: str | None,
    kind: str | None,
    text: str | None,
    open_now: bool,
    limit: int,
    offset: int,
) -> tuple[list[AgencyOut], int]:
    """A page of matching offices. "Open now" depends on hours, holidays and the local time,
    so it is decided here rather than in SQL; a region's directory is hundreds of rows."""
    agencies = await repository.find_agencies(
        session, municipality=municipality, service=service, kind=kind, text=text
    )
    calendar = await calendar_around(session, now)
    items = [to_out(agency, now=now, calendar=calendar) for agency in agencies]
    if open_now:
        items = [item for item in items if item.open_now.is_open]
    return items[offset : offset + limit], len(items)


async def save_agency(session: AsyncSession, data: AgencyIn) -> tuple[Agency, bool]:
    """Create or replace an office by code; returns it and whether it was created."""
    services = await repository.services_by_code(session, data.services)
    unknown = sorted(set(data.services) - services.keys())
    if unknown:
        raise InvalidInput(
            f"Unknown service codes: {', '.join(unknown)}",
            errors=[
                {"field": "services", "message": f"unknown service code {c!r}"} for c in unknown
            ],
        )
    municipality = await repository.municipality_named(session, data.municipality)
    agency = await repository.get_agency(session, data.code)
    created = agency is None
    if agency is None:
        agency = Agency(code=data.code, hours=[], holidays=[], services=[])
        session.add(agency)
    agency.name = data.name
    agency.kind = data.kind
    agency.municipality = municipality
    agency.address = data.address
    agency.phones = list(data.phones)
    agency.email = data.email
    agency.website = data.website
    agency.notes = data.notes
    agency.hours = [
        AgencyHours(
            weekday=WEEKDAYS.index(day),
            opens=interval.open,
            closes=interval.close,
            break_start=interval.break_start,
            break_end=interval.break_end,
        )
        for day, intervals in data.hours.items()
        for interval in intervals
    ]
    agency.holidays = [AgencyHoliday(day=day) for day in sorted(set(data.holidays))]
    agency.services = [services[code] for code in dict.fromkeys(data.services)]
    await session.flush()
    return agency, created


async def import_directory(
    session: AsyncSession, data: DirectoryFile, *, actor: str, actor_id: int | None
) -> ImportReport:
    """Upsert services, then agencies, in one transaction: a bad row rejects the whole file."""
    existing = await repository.services_by_code(session, [s.code for s in data.services])
    services_created = services_updated = 0
    for item in data.services:
        service = existing.get(item.code)
        if service is None:
            session.add(Service(code=item.code, name=item.name, topic=item.topic))
            services_created += 1
        else:
            service.name, service.topic = item.name, item.topic
            services_updated += 1
    await session.flush()
    agencies_created = agencies_updated = 0
    for agency_in in data.agencies:
        _agency, created = await save_agency(session, agency_in)
        agencies_created += created
        agencies_updated += not created
    report = ImportReport(
        services_created=services_created,
        services_updated=services_updated,
        agencies_created=agencies_created,
        agencies_updated=agencies_updated,
    )
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="directory.import",
        subject_type="directory",
        details=report.model_dump(),
    )
    return report
