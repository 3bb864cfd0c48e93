"""Demo booking schedules: every sample MFC office takes bookings for the services it provides,
and the pension-fund client offices take consultations with a specialist."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.appointments import schedule
from services.appointments.models import AppointmentOffice
from services.appointments.schemas import ScheduleIn
from services.directory.models import Agency

# Visit lengths of the sample services, in minutes; the rest take 15.
_MINUTES = {"passport-rf": 30, "passport-foreign": 30, "social-housing-subsidy": 30}
_SPECIALISTS = ["Консультант Белова Ирина", "Консультант Орлов Максим"]


async def seed_appointments(session: AsyncSession) -> None:
    """Schedules for the sample offices that have none yet."""
    configured = set(await session.scalars(select(AppointmentOffice.agency_id)))
    agencies = await session.scalars(
        select(Agency)
        .where(Agency.kind.in_(("mfc", "pension_fund")))
        .options(selectinload(Agency.services))
        .order_by(Agency.code)
    )
    now = dt.datetime.now(dt.UTC)
    for agency in agencies:
        if agency.id in configured or not agency.services:
            continue
        await schedule.save_schedule(
            session,
            office_code=agency.code,
            data=ScheduleIn(
                windows=3 if agency.kind == "mfc" else 1,
                durations={s.code: _MINUTES.get(s.code, 15) for s in agency.services},
                specialists=_SPECIALISTS if agency.kind == "pension_fund" else [],
            ),
            now=now,
        )
