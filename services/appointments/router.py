"""HTTP endpoints of appointments: slots, bookings, attendance and office schedules."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.appointments import repository, schedule, service
from services.appointments.mfc import MfcFactory, http_mfc
from services.appointments.models import Booking
from services.appointments.schemas import (
    AttendanceIn,
    BookingIn,
    BookingOut,
    Kind,
    NearestOut,
    RescheduleIn,
    ScheduleIn,
    ScheduleOut,
    SlotOut,
)
from services.auth.deps import AdminUser, CurrentUser, require_roles
from services.auth.models import Role, User
from services.common.audit import record_audit
from services.common.deps import SessionDep, SettingsDep
from services.common.problems import Forbidden, NotFound
from services.common.settings import Settings

router = APIRouter(prefix="/appointments", tags=["appointments"])

Booker = Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR))]
OfficeStaff = Annotated[
    User, Depends(require_roles(Role.AGENCY, Role.SUPERVISOR, Role.ADMINISTRATOR))
]
Mfc = Annotated[MfcFactory, Depends(lambda: http_mfc)]
OfficeCode = Annotated[str, Query(alias="office", max_length=64, description="Office code")]
ServiceCode = Annotated[str, Query(alias="service", max_length=64, description="Service code")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", max_length=100, description="Repeat-safe creates from phone flows"
    ),
]

#: Roles that work with the citizen and so see the name and contact (each read audited).
_PERSONAL_ROLES = {Role.OPERATOR.value, Role.SUPERVISOR.value, Role.AGENCY.value}


def _now(settings: Settings) -> dt.datetime:
    return dt.datetime.now(settings.tz)


def _check_office(user: User, agency_id: int) -> None:
    """Office staff act only on their own office's bookings."""
    if user.role == Role.AGENCY.value and user.agency_id != agency_id:
        raise Forbidden("Эта запись относится к другому офису")


async def _out(
    session: AsyncSession, booking: Booking, user: User, settings: Settings, *, action: str
) -> BookingOut:
    """The response for a booking; records the action, and a personal-data read if shown."""
    personal = user.role in _PERSONAL_ROLES
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action=action,
        subject_type="appointment",
        subject_id=str(booking.id),
        details={"personal_data_shown": personal},
    )
    return await service.to_out(session, booking, personal=personal, tz=settings.tz)


@router.get("/slots", response_model=list[SlotOut], summary="Free slots of a service at an office")
async def slots(
    _user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    mfc: Mfc,
    office: OfficeCode,
    service_code: ServiceCode,
    kind: Kind = "appointment",
    first_day: dt.date | None = None,
    days: Annotated[int, Query(ge=1, le=schedule.HORIZON_DAYS)] = 7,
) -> list[SlotOut]:
    now = _now(settings)
    return await schedule.office_slots(
        session,
        office_code=office,
        service_code=service_code,
        kind=kind,
        first_day=first_day or now.date(),
        days=days,
        now=now,
        tz=settings.tz,
        mfc=mfc,
    )


@router.get("/nearest", response_model=NearestOut, summary="Earliest free slots in a municipality")
async def nearest(
    _user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    mfc: Mfc,
    service_code: ServiceCode,
    municipality: Annotated[str, Query(min_length=1, max_length=100)],
    count: Annotated[int, Query(ge=1, le=20)] = 3,
) -> NearestOut:
    found, unavailable = await schedule.nearest(
        session,
        service_code=service_code,
        municipality=municipality,
        count=count,
        now=_now(settings),
        tz=settings.tz,
        mfc=mfc,
    )
    return NearestOut(slots=found, unavailable=unavailable)


@router.post("/bookings", response_model=BookingOut, status_code=201, summary="Book a visit")
async def book(
    body: BookingIn,
    user: Booker,
    session: SessionDep,
    settings: SettingsDep,
    mfc: Mfc,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> BookingOut:
    booking, created = await service.book(
        session,
        data=body,
        actor_id=user.id,
        idempotency_key=idempotency_key,
        now=_now(settings),
        tz=settings.tz,
        mfc=mfc,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    action = "appointments.booking.create" if created else "appointments.booking.replay"
    return await _out(session, booking, user, settings, action=action)


@router.get("/bookings/{booking_id}", response_model=BookingOut, summary="One booking")
async def get_booking(
    booking_id: int, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> BookingOut:
    booking = await repository.booking(session, booking_id)
    if booking is None:
        raise NotFound(f"Запись {booking_id} не найдена")
    _check_office(user, booking.agency_id)
    return await _out(session, booking, user, settings, action="appointments.booking.read")


@router.get("/codes/{code}", response_model=BookingOut, summary="The active booking of a code")
async def by_code(
    code: Annotated[str, Path(pattern=r"^[0-9]{6}$", description="Six-digit code")],
    user: Booker,
    session: SessionDep,
    settings: SettingsDep,
) -> BookingOut:
    booking = await repository.active_booking_by_code(session, code)
    if booking is None:
        raise NotFound("Активной записи с таким кодом нет")
    return await _out(session, booking, user, settings, action="appointments.booking.read")


@router.post("/bookings/{booking_id}/cancel", response_model=BookingOut, summary="Cancel")
async def cancel(
    booking_id: int, user: Booker, session: SessionDep, settings: SettingsDep, mfc: Mfc
) -> BookingOut:
    booking = await service.cancel(session, booking_id=booking_id, now=_now(settings), mfc=mfc)
    return await _out(session, booking, user, settings, action="appointments.booking.cancel")


@router.post("/bookings/{booking_id}/reschedule", response_model=BookingOut, summary="Move")
async def reschedule(
    booking_id: int,
    body: RescheduleIn,
    user: Booker,
    session: SessionDep,
    settings: SettingsDep,
    mfc: Mfc,
) -> BookingOut:
    booking = await service.reschedule(
        session, booking_id=booking_id, data=body, now=_now(settings), tz=settings.tz, mfc=mfc
    )
    return await _out(session, booking, user, settings, action="appointments.booking.reschedule")


@router.post(
    "/bookings/{booking_id}/attendance", response_model=BookingOut, summary="Attended or no-show"
)
async def attendance(
    booking_id: int,
    body: AttendanceIn,
    user: Annotated[User, Depends(require_roles(Role.AGENCY, Role.ADMINISTRATOR))],
    session: SessionDep,
    settings: SettingsDep,
) -> BookingOut:
    found = await repository.booking(session, booking_id)
    if found is None:
        raise NotFound(f"Запись {booking_id} не найдена")
    _check_office(user, found.agency_id)
    booking = await service.mark_attendance(
        session, booking_id=booking_id, attended=body.attended, now=_now(settings)
    )
    return await _out(session, booking, user, settings, action="appointments.booking.attendance")


@router.get(
    "/offices/{office}/day", response_model=list[BookingOut], summary="An office's day of visits"
)
async def office_day(
    office: str,
    user: OfficeStaff,
    session: SessionDep,
    settings: SettingsDep,
    day: dt.date | None = None,
) -> list[BookingOut]:
    agency = await repository.agency_by_code(session, office)
    if agency is None:
        raise NotFound(f"No office with code {office!r}")
    _check_office(user, agency.id)
    start = dt.datetime.combine(day or _now(settings).date(), dt.time(), tzinfo=settings.tz)
    bookings = await repository.office_bookings(
        session, agency.id, start, start + dt.timedelta(days=1)
    )
    personal = user.role in _PERSONAL_ROLES
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="appointments.office_day.read",
        subject_type="agency",
        subject_id=office,
        details={"personal_data_shown": personal, "bookings": [b.id for b in bookings]},
    )
    return [
        await service.to_out(session, booking, personal=personal, tz=settings.tz)
        for booking in bookings
    ]


@router.get("/offices/{office}/schedule", response_model=ScheduleOut, summary="Booking schedule")
async def get_schedule(office: str, _user: CurrentUser, session: SessionDep) -> ScheduleOut:
    return await schedule.get_schedule(session, office_code=office)


@router.put("/offices/{office}/schedule", response_model=ScheduleOut, summary="Set the schedule")
async def put_schedule(
    office: str, body: ScheduleIn, admin: AdminUser, session: SessionDep, settings: SettingsDep
) -> ScheduleOut:
    saved = await schedule.save_schedule(session, office_code=office, data=body, now=_now(settings))
    await record_audit(
        session,
        actor=admin.username,
        actor_id=admin.id,
        action="appointments.schedule.update",
        subject_type="agency",
        subject_id=office,
    )
    return saved
