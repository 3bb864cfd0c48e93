"""Queries of the appointment tables. The seat-taking statement is the capacity rule's other half:
it picks a free resource and inserts its cells in one statement, and the seats' primary key
rejects whatever a concurrent transaction took first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.appointments.models import (
    AppointmentOffice,
    Booking,
    Resource,
    ScheduleException,
    Seat,
    ServiceDuration,
)
from services.directory.models import Agency, Municipality, Service


async def agency_by_code(session: AsyncSession, code: str) -> Agency | None:
    """A directory office with the hours and days off its slots follow."""
    query = (
        select(Agency)
        .where(Agency.code == code)
        .options(selectinload(Agency.hours), selectinload(Agency.holidays))
    )
    return (await session.execute(query)).scalar_one_or_none()


async def office_of(session: AsyncSession, agency_id: int) -> AppointmentOffice | None:
    return await session.get(AppointmentOffice, agency_id)


async def durations(session: AsyncSession, agency_id: int) -> dict[str, int]:
    """Minutes per visit by service code at an office."""
    rows = await session.execute(
        select(Service.code, ServiceDuration.minutes)
        .join(Service, Service.id == ServiceDuration.service_id)
        .where(ServiceDuration.agency_id == agency_id)
        .order_by(Service.code)
    )
    return {row.code: row.minutes for row in rows}


async def exceptions(
    session: AsyncSession, agency_id: int, start: dt.date | None = None
) -> list[ScheduleException]:
    query = select(ScheduleException).where(ScheduleException.agency_id == agency_id)
    if start is not None:
        query = query.where(ScheduleException.day >= start)
    return list(await session.scalars(query.order_by(ScheduleException.day)))


async def resources(
    session: AsyncSession, agency_id: int, *, kind: str | None = None, active: bool = True
) -> list[Resource]:
    query = select(Resource).where(Resource.agency_id == agency_id)
    if kind is not None:
        query = query.where(Resource.kind == kind)
    if active:
        query = query.where(Resource.is_active)
    return list(await session.scalars(query.order_by(Resource.kind.desc(), Resource.position)))


async def taken_cells(
    session: AsyncSession, resource_ids: Sequence[int], start: dt.datetime, end: dt.datetime
) -> frozenset[tuple[int, dt.datetime]]:
    """Cells held between two instants, as (resource, UTC cell start)."""
    if not resource_ids:
        return frozenset()
    rows = await session.execute(
        select(Seat.resource_id, Seat.cell_start).where(
            Seat.resource_id.in_(resource_ids), Seat.cell_start >= start, Seat.cell_start < end
        )
    )
    return frozenset((row.resource_id, row.cell_start.astimezone(dt.UTC)) for row in rows)


_TAKE_SEATS = text(
    """
    WITH cells AS (
        SELECT CAST(:first_cell AS timestamptz) + make_interval(mins => :step * i) AS cell_start
        FROM generate_series(0, :cells - 1) AS i
    ), candidate AS (
        SELECT r.id FROM appointment_resources AS r
        WHERE r.agency_id = :agency_id AND r.kind = :kind AND r.is_active
          AND (CAST(:resource_id AS integer) IS NULL OR r.id = CAST(:resource_id AS integer))
          AND NOT EXISTS (
              SELECT 1 FROM appointment_seats AS s JOIN cells AS c USING (cell_start)
              WHERE s.resource_id = r.id)
        ORDER BY r.position
        LIMIT 1
    ), inserted AS (
        INSERT INTO appointment_seats (resource_id, cell_start, booking_id)
        SELECT candidate.id, cells.cell_start, :booking_id FROM candidate CROSS JOIN cells
        ON CONFLICT DO NOTHING
        RETURNING resource_id
    )
    SELECT (SELECT id FROM candidate) AS candidate, (SELECT count(*) FROM inserted) AS inserted
    """
)


async def try_take_seats(
    session: AsyncSession,
    *,
    booking_id: int,
    agency_id: int,
    kind: str,
    resource_id: int | None,
    first_cell: dt.datetime,
    cells: int,
    step_minutes: int,
) -> tuple[int | None, int]:
    """One attempt: (the free resource this statement saw, how many of its cells it inserted).

    No resource: every one is taken as of this statement. Fewer cells than asked: a concurrent
    booking committed some of them first (ON CONFLICT waited for it), so the caller rolls back
    its savepoint and tries again; the next statement sees that booking."""
    row = (
        await session.execute(
            _TAKE_SEATS,
            {
                "first_cell": first_cell,
                "step": step_minutes,
                "cells": cells,
                "agency_id": agency_id,
                "kind": kind,
                "resource_id": resource_id,
                "booking_id": booking_id,
            },
        )
    ).one()
    return row.candidate, int(row.inserted)


async def release_seats(session: AsyncSession, booking_id: int) -> None:
    await session.execute(delete(Seat).where(Seat.booking_id == booking_id))


async def booking(session: AsyncSession, booking_id: int, *, lock: bool = False) -> Booking | None:
    query = select(Booking).where(Booking.id == booking_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def active_booking_by_code(session: AsyncSession, code: str) -> Booking | None:
    return await session.scalar(
        select(Booking).where(Booking.code == code, Booking.status == "booked")
    )


async def booking_by_key(session: AsyncSession, key: str) -> Booking | None:
    return await session.scalar(select(Booking).where(Booking.idempotency_key == key))


async def office_bookings(
    session: AsyncSession, agency_id: int, start: dt.datetime, end: dt.datetime
) -> list[Booking]:
    """An office's bookings starting in a period, cancelled ones left out."""
    query = (
        select(Booking)
        .where(
            Booking.agency_id == agency_id,
            Booking.starts_at >= start,
            Booking.starts_at < end,
            Booking.status != "cancelled",
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return list(await session.scalars(query))


async def offices_for(
    session: AsyncSession, *, service_code: str, municipality: str
) -> list[tuple[Agency, AppointmentOffice, int]]:
    """Offices of a municipality that book a service: (office, settings, visit minutes)."""
    query = (
        select(Agency, AppointmentOffice, ServiceDuration.minutes)
        .join(AppointmentOffice, AppointmentOffice.agency_id == Agency.id)
        .join(ServiceDuration, ServiceDuration.agency_id == Agency.id)
        .join(Service, Service.id == ServiceDuration.service_id)
        .join(Municipality, Municipality.id == Agency.municipality_id)
        .where(
            Service.code == service_code,
            func.lower(Municipality.name) == municipality.strip().lower(),
        )
        .options(selectinload(Agency.hours), selectinload(Agency.holidays))
        .order_by(Agency.code)
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(query)).all()]


async def service_by_code(session: AsyncSession, code: str) -> Service | None:
    return await session.scalar(select(Service).where(Service.code == code))


async def names(
    session: AsyncSession, *, agency_id: int, service_id: int, resource_id: int | None
) -> tuple[Agency, Service, Resource | None]:
    """The office, service and resource a booking refers to, for its response."""
    agency = await session.get(Agency, agency_id)
    service = await session.get(Service, service_id)
    resource = await session.get(Resource, resource_id) if resource_id else None
    assert agency is not None and service is not None  # foreign keys guarantee both
    return agency, service, resource
