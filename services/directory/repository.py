"""Queries of the directory tables. No business rules here, only data access."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.directory.models import (
    Agency,
    AgencyService,
    Municipality,
    PublicHoliday,
    Service,
)

_AgencyQuery = TypeVar("_AgencyQuery", bound=Select[Any])


def _with_details(query: _AgencyQuery) -> _AgencyQuery:
    return query.options(
        selectinload(Agency.hours), selectinload(Agency.holidays), selectinload(Agency.services)
    )


async def get_agency(session: AsyncSession, code: str) -> Agency | None:
    """An office with its hours, holidays and services."""
    result = await session.execute(_with_details(select(Agency).where(Agency.code == code)))
    return result.scalar_one_or_none()


async def find_agencies(
    session: AsyncSession,
    *,
    municipality: str | None,
    service: str | None,
    kind: str | None,
    text: str | None,
) -> list[Agency]:
    """Offices matching every given filter, ordered by municipality and name."""
    query = select(Agency).join(Agency.municipality)
    if municipality:
        query = query.where(func.lower(Municipality.name) == municipality.strip().lower())
    if kind:
        query = query.where(Agency.kind == kind)
    if service:
        query = query.where(
            Agency.id.in_(
                select(AgencyService.agency_id)
                .join(Service, Service.id == AgencyService.service_id)
                .where(Service.code == service)
            )
        )
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Agency.name.ilike(pattern), Agency.address.ilike(pattern)))
    query = query.order_by(Municipality.name, Agency.name)
    return list((await session.scalars(_with_details(query))).unique())


async def municipality_named(session: AsyncSession, name: str) -> Municipality:
    """The municipality of that name, created on first use."""
    found = await session.scalar(select(Municipality).where(Municipality.name == name))
    if found is None:
        found = Municipality(name=name)
        session.add(found)
        await session.flush()
    return found


async def services_by_code(session: AsyncSession, codes: list[str]) -> dict[str, Service]:
    """Services for the given codes (missing ones are simply absent)."""
    if not codes:
        return {}
    rows = await session.scalars(select(Service).where(Service.code.in_(codes)))
    return {service.code: service for service in rows}


async def list_municipalities(session: AsyncSession) -> list[Municipality]:
    """Every municipality, by name."""
    return list(await session.scalars(select(Municipality).order_by(Municipality.name)))


async def list_services(session: AsyncSession, topic: str | None) -> list[Service]:
    """Every service (of a topic), by code."""
    query = select(Service).order_by(Service.code)
    if topic:
        query = query.where(Service.topic == topic)
    return list(await session.scalars(query))


async def delete_agency(session: AsyncSession, agency: Agency) -> None:
    """Remove an office with its hours, holidays and service links."""
    await session.execute(delete(Agency).where(Agency.id == agency.id))


async def holiday_calendar(
    session: AsyncSession, start: dt.date, end: dt.date
) -> dict[dt.date, str]:
    """Public holidays and shortened days between two dates, inclusive."""
    rows = await session.execute(
        select(PublicHoliday.day, PublicHoliday.kind).where(PublicHoliday.day.between(start, end))
    )
    return {row.day: row.kind for row in rows}
