"""HTTP endpoints of complaints: registration, reading, agency actions, the public status,
delivery preferences and the dead letters."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlalchemy import func, select

from services.auth.deps import AdminUser, SupervisorUser, client_ip, require_roles
from services.auth.models import Role, User
from services.common.audit import record_audit
from services.common.deps import PageDep, RuntimeDep, SettingsDep
from services.common.pagination import Page
from services.common.problems import NotFound
from services.complaints import outbox, preferences, public, service
from services.complaints.config import ComplaintSettings
from services.complaints.deps import CommittedSession, OptionalStaff
from services.complaints.models import Complaint, OutboxMessage
from services.complaints.responsible import resolve
from services.complaints.schemas import (
    ActionIn,
    ChannelIn,
    ChannelOut,
    ComplaintIn,
    ComplaintOut,
    OutboxOut,
    PublicStatusIn,
    PublicStatusOut,
    RegisteredOut,
    ResponsibleOut,
)
from services.directory.models import Agency

router = APIRouter(prefix="/complaints", tags=["complaints"])

Registrar = Annotated[
    User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR))
]
Reader = Annotated[
    User,
    Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR, Role.AGENCY)),
]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="Repeat-safe phone-flow creates"),
]


def complaint_settings(request: Request) -> ComplaintSettings:
    """Read once per process and kept on the app, like the main settings object."""
    state = request.app.state
    if not hasattr(state, "complaint_settings"):
        state.complaint_settings = ComplaintSettings()
    config: ComplaintSettings = state.complaint_settings
    return config


Config = Annotated[ComplaintSettings, Depends(complaint_settings)]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@router.get("/responsible", response_model=ResponsibleOut, summary="Who answers for a service")
async def responsible(
    _user: Registrar,
    session: CommittedSession,
    service_code: Annotated[str, Query(alias="service", max_length=64)],
    municipality: Annotated[str, Query(max_length=100)],
) -> ResponsibleOut:
    """The office a complaint would go to, for the operator to confirm or correct."""
    found = await resolve(
        session, service_code=service_code, municipality=municipality, agency_code=None
    )
    return ResponsibleOut(
        agency_code=found.agency.code, agency_name=found.agency.name, reason=found.chosen_by
    )


@router.post(
    "",
    response_model=RegisteredOut,
    status_code=status.HTTP_201_CREATED,
    summary="Register a complaint (call, voice message or API)",
)
async def register(
    body: ComplaintIn,
    user: Registrar,
    session: CommittedSession,
    settings: SettingsDep,
    config: Config,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RegisteredOut:
    registered, created = await service.register(
        session,
        body,
        user=user,
        now=_now(),
        config=config,
        recordings=config.recordings_path(settings),
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return registered


@router.get("", response_model=Page[ComplaintOut], summary="Complaints (agency: its inbox)")
async def listing(
    user: Reader,
    session: CommittedSession,
    page: PageDep,
    status_: Annotated[str | None, Query(alias="status", max_length=16)] = None,
    overdue: bool | None = None,
    agency: Annotated[str | None, Query(max_length=64, description="Office code")] = None,
) -> Page[ComplaintOut]:
    items, total = await service.listing(
        session,
        user=user,
        status=status_,
        overdue=overdue,
        agency_code=agency,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[ComplaintOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/status", response_model=PublicStatusOut, summary="Public: status by number and phone digits"
)
async def public_status(
    body: PublicStatusIn,
    request: Request,
    session: CommittedSession,
    runtime: RuntimeDep,
    settings: SettingsDep,
    staff: OptionalStaff,
) -> PublicStatusOut:
    """For callers and the voice menu: only the timeline, no text and no personal data.
    A POST, so the number and digits stay out of URLs and access logs. The voice menu sends
    its service account's token, which exempts it from the per-address limit."""
    limiter = public.StatusLimiter(runtime.redis, f"okno:{settings.centre_id}")
    trusted = staff is not None and staff.role != Role.AGENCY.value
    client = None if trusted else client_ip(request) or "unknown"
    return await public.public_status(session, body, limiter=limiter, client=client)


@router.get("/outbox", response_model=Page[OutboxOut], summary="Deliveries (dead letters)")
async def outbox_list(
    _user: SupervisorUser,
    session: CommittedSession,
    page: PageDep,
    state: Annotated[str, Query(pattern="^(pending|delivered|dead)$")] = "dead",
) -> Page[OutboxOut]:
    query = (
        select(OutboxMessage, Agency.code, Complaint.number)
        .join(Agency, Agency.id == OutboxMessage.agency_id)
        .outerjoin(Complaint, Complaint.id == OutboxMessage.complaint_id)
        .where(OutboxMessage.state == state)
    )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(OutboxMessage.id.desc()).limit(page.limit).offset(page.offset)
    )
    items = [_outbox_out(row, code, number) for row, code, number in rows]
    return Page[OutboxOut](items=items, total=total, limit=page.limit, offset=page.offset)


def _outbox_out(row: OutboxMessage, agency_code: str, number: str | None) -> OutboxOut:
    return OutboxOut(
        id=row.id,
        kind=row.kind,
        complaint_number=number,
        notice_id=row.notice_id,
        agency_code=agency_code,
        channel=row.channel,
        endpoint=row.endpoint,
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )


@router.post("/outbox/{row_id}/resend", response_model=OutboxOut, summary="Re-send a dead letter")
async def resend(row_id: int, user: SupervisorUser, session: CommittedSession) -> OutboxOut:
    row = await outbox.resend(session, row_id, now=_now())
    if row is None:
        raise NotFound(f"No outbox message {row_id}")
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="complaints.outbox.resend",
        subject_type="outbox",
        subject_id=str(row_id),
    )
    agency = await session.get(Agency, row.agency_id)
    complaint = await session.get(Complaint, row.complaint_id) if row.complaint_id else None
    assert agency is not None  # foreign key
    return _outbox_out(row, agency.code, complaint.number if complaint else None)


@router.get("/channels/{agency_code}", response_model=ChannelOut, summary="Delivery preference")
async def get_channel(agency_code: str, _user: AdminUser, session: CommittedSession) -> ChannelOut:
    return await preferences.get_channel(session, agency_code)


@router.put("/channels/{agency_code}", response_model=ChannelOut, summary="Set delivery preference")
async def set_channel(
    agency_code: str, body: ChannelIn, user: AdminUser, session: CommittedSession
) -> ChannelOut:
    """The webhook secret is in this response only, when it is generated."""
    return await preferences.set_channel(session, agency_code, body, user=user)


@router.get("/{number}", response_model=ComplaintOut, summary="One complaint with its timeline")
async def read(
    number: str, user: Reader, session: CommittedSession, request: Request
) -> ComplaintOut:
    return await service.read(session, number, user=user, ip=client_ip(request))


@router.post("/{number}/actions", response_model=ComplaintOut, summary="Acknowledge, answer…")
async def act(number: str, body: ActionIn, user: Reader, session: CommittedSession) -> ComplaintOut:
    return await service.act(session, number, body, user=user, now=_now())
