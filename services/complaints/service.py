"""Registering complaints, showing them to staff, and moving them on (the caller owns the
transaction). Agency users see only their agency's complaints; personal data is shown only to
roles that work with the citizen, and every such read is audited."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import Role, User
from services.common.audit import record_audit
from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from services.complaints import notifier, repository
from services.complaints.config import ComplaintSettings
from services.complaints.models import Complaint, DeliveryPreference
from services.complaints.outbox import destination, enqueue_complaint
from services.complaints.policy import (
    ActionRefused,
    DeadlineState,
    deadlines,
    newly_overdue,
    next_status,
)
from services.complaints.responsible import Responsible, resolve
from services.complaints.schemas import (
    ActionIn,
    ComplaintIn,
    ComplaintOut,
    RegisteredOut,
    TimelineEntry,
)
from services.directory.models import Agency, Municipality, Service

#: Roles that work with the citizen and so see texts and contacts.
PERSONAL_ROLES = frozenset({Role.OPERATOR.value, Role.SUPERVISOR.value, Role.AGENCY.value})
#: Who may take each action (an agency user only on its own agency's complaints).
_MAY = {
    "acknowledge": {Role.AGENCY.value, Role.SUPERVISOR.value, Role.ADMINISTRATOR.value},
    "answer": {Role.AGENCY.value, Role.SUPERVISOR.value, Role.ADMINISTRATOR.value},
    "redirect": {
        Role.AGENCY.value,
        Role.OPERATOR.value,
        Role.SUPERVISOR.value,
        Role.ADMINISTRATOR.value,
    },
    "close": {Role.SUPERVISOR.value, Role.ADMINISTRATOR.value},
}


async def _new_number(session: AsyncSession) -> str:
    """A random nine-digit number: easy to key in on a phone, hard to guess."""
    for _ in range(10):
        number = str(10**8 + secrets.randbelow(9 * 10**8))
        if await session.scalar(select(Complaint.id).where(Complaint.number == number)) is None:
            return number
    raise Conflict("Could not allocate a registration number; try again")


def _forward(
    session: AsyncSession,
    complaint: Complaint,
    preference: DeliveryPreference | None,
    *,
    now: dt.datetime,
    actor: str,
) -> None:
    """Hand the complaint to its agency's channel: queued for a webhook or mail, or at once
    in the agency inbox."""
    route = destination(preference)
    complaint.status = "forwarded"
    repository.add_event(
        session, complaint, "forwarded", at=now, actor=actor, note=route[0] if route else "inbox"
    )
    if route is None:
        complaint.status = "delivered"
        repository.add_event(session, complaint, "delivered", at=now, actor=actor, note="inbox")
    else:
        enqueue_complaint(session, complaint, route, now=now)


def spoken_number(number: str) -> str:
    """The number in groups of three, as it is read to the caller."""
    return " ".join(number[i : i + 3] for i in range(0, len(number), 3))


async def repeat_of(session: AsyncSession, idempotency_key: str) -> Complaint | None:
    """The complaint already registered under this key, if any. Repeats of one key wait for
    each other (a transaction-scoped advisory lock), so the second finds the first's complaint
    instead of failing on the unique index."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(idempotency_key, 0)))
    )
    return await session.scalar(
        select(Complaint).where(Complaint.idempotency_key == idempotency_key)
    )


@dataclass(frozen=True, slots=True)
class Draft:
    """What a new complaint says, however it arrived (operator, API or voice menu)."""

    source: str
    phone: str
    text: str
    citizen_name: str | None = None
    email: str | None = None
    recording: str | None = None


async def create(
    session: AsyncSession,
    draft: Draft,
    found: Responsible,
    *,
    actor: str,
    actor_id: int | None,
    now: dt.datetime,
    config: ComplaintSettings,
    idempotency_key: str | None,
    note: str | None = None,
    details: dict[str, object] | None = None,
) -> Complaint:
    """Store a complaint for the office found, with its deadlines, timeline, forwarding and
    audit entry, all in the caller's transaction. ``actor_id`` is None for the voice menu,
    which registers without a staff account."""
    preference = await repository.preference(session, found.agency.id)
    due = deadlines(
        now,
        ack_hours=(preference and preference.ack_hours) or config.complaint_ack_hours,
        answer_days=(preference and preference.answer_days) or config.complaint_answer_days,
    )
    complaint = Complaint(
        number=await _new_number(session),
        source=draft.source,
        status="registered",
        agency_id=found.agency.id,
        service_id=found.service.id if found.service else None,
        municipality_id=found.municipality.id if found.municipality else None,
        agency_chosen_by=found.chosen_by,
        citizen_name=draft.citizen_name,
        phone=draft.phone,
        email=draft.email,
        text=draft.text,
        recording=draft.recording,
        ack_due=due.ack_due,
        answer_due=due.answer_due,
        ack_overdue=False,
        answer_overdue=False,
        idempotency_key=idempotency_key,
        created_by=actor,
        created_by_id=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(complaint)
    await session.flush()
    repository.add_event(session, complaint, "registered", at=now, actor=actor, note=note)
    _forward(session, complaint, preference, now=now, actor=actor)
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="complaints.register",
        subject_type="complaint",
        subject_id=complaint.number,
        details={"source": draft.source, "agency_code": found.agency.code, **(details or {})},
    )
    notifier.registered(draft.source)
    return complaint


async def register(
    session: AsyncSession,
    data: ComplaintIn,
    *,
    user: User,
    now: dt.datetime,
    config: ComplaintSettings,
    recordings: Path,
    idempotency_key: str | None,
) -> tuple[RegisteredOut, bool]:
    """Register a complaint by a staff user and queue its forwarding in the same transaction.
    Returns the registration and whether it is new (False: a repeat of the same key)."""
    if idempotency_key is not None:
        existing = await repeat_of(session, idempotency_key)
        if existing is not None:
            return await registered_out(session, existing), False
    if data.recording is not None and not (recordings / data.recording).is_file():
        raise InvalidInput(
            f"No recording {data.recording!r} in the recordings folder", field="recording"
        )
    found = await resolve(
        session,
        service_code=data.service_code,
        municipality=data.municipality,
        agency_code=data.agency_code,
    )
    draft = Draft(
        source=data.source,
        phone=data.phone,
        text=data.text,
        citizen_name=data.citizen_name,
        email=data.email,
        recording=data.recording,
    )
    complaint = await create(
        session,
        draft,
        found,
        actor=user.username,
        actor_id=user.id,
        now=now,
        config=config,
        idempotency_key=idempotency_key,
    )
    return _registered(complaint, found.agency), True


async def registered_out(session: AsyncSession, complaint: Complaint) -> RegisteredOut:
    """The registration as first answered, for a repeat of its key."""
    agency = await session.get(Agency, complaint.agency_id)
    assert agency is not None  # foreign key
    return _registered(complaint, agency)


def _registered(complaint: Complaint, agency: Agency) -> RegisteredOut:
    return RegisteredOut(
        number=complaint.number,
        status=complaint.status,
        agency_code=agency.code,
        agency_name=agency.name,
        ack_due=complaint.ack_due,
        answer_due=complaint.answer_due,
        spoken=(
            f"Ваша жалоба зарегистрирована под номером {spoken_number(complaint.number)}. "
            f"Она передана в {agency.name}. Узнать, что с ней, можно по этому номеру "
            "и последним четырём цифрам вашего телефона."
        ),
    )


def _visible(user: User, complaint: Complaint) -> bool:
    return user.role != Role.AGENCY.value or complaint.agency_id == user.agency_id


async def _load(session: AsyncSession, number: str, user: User, *, lock: bool) -> Complaint:
    """The complaint, or 404 also when it belongs to another agency (no existence leak)."""
    complaint = await repository.by_number(session, number, for_update=lock)
    if complaint is None or not _visible(user, complaint):
        raise NotFound(f"No complaint {number}")
    return complaint


async def _out(
    session: AsyncSession, complaint: Complaint, *, personal: bool, with_timeline: bool = True
) -> ComplaintOut:
    agency = await session.get(Agency, complaint.agency_id)
    assert agency is not None  # foreign key
    service = await session.get(Service, complaint.service_id) if complaint.service_id else None
    town = (
        await session.get(Municipality, complaint.municipality_id)
        if complaint.municipality_id
        else None
    )
    events = await repository.timeline(session, complaint.id) if with_timeline else []
    out = ComplaintOut(
        number=complaint.number,
        status=complaint.status,
        source=complaint.source,
        agency_code=agency.code,
        agency_name=agency.name,
        agency_chosen_by=complaint.agency_chosen_by,
        service_code=service.code if service else None,
        municipality=town.name if town else None,
        ack_due=complaint.ack_due,
        answer_due=complaint.answer_due,
        ack_overdue=complaint.ack_overdue,
        answer_overdue=complaint.answer_overdue,
        created_at=complaint.created_at,
        personal_data_shown=personal,
        timeline=[
            TimelineEntry(event=e.event, at=e.at, actor=e.actor, note=e.note) for e in events
        ],
    )
    if personal:
        out.citizen_name, out.phone, out.email = (
            complaint.citizen_name,
            complaint.phone,
            complaint.email,
        )
        out.text, out.recording, out.answer = complaint.text, complaint.recording, complaint.answer
    return out


async def read(session: AsyncSession, number: str, *, user: User, ip: str | None) -> ComplaintOut:
    """One complaint with its timeline; the read is audited."""
    complaint = await _load(session, number, user, lock=False)
    personal = user.role in PERSONAL_ROLES
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="complaints.read",
        subject_type="complaint",
        subject_id=complaint.number,
        details={"personal_data_shown": personal},
        ip=ip,
    )
    return await _out(session, complaint, personal=personal)


async def listing(
    session: AsyncSession,
    *,
    user: User,
    status: str | None,
    overdue: bool | None,
    agency_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ComplaintOut], int]:
    """Complaints newest first, without personal data or timelines (open one to read them);
    an agency user's list is its inbox."""
    query = select(Complaint).join(Agency, Agency.id == Complaint.agency_id)
    if user.role == Role.AGENCY.value:
        query = query.where(Complaint.agency_id == user.agency_id)
    if agency_code:
        query = query.where(Agency.code == agency_code)
    if status:
        query = query.where(Complaint.status == status)
    if overdue is not None:
        late = or_(Complaint.ack_overdue, Complaint.answer_overdue)
        query = query.where(late if overdue else ~late)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Complaint.created_at.desc(), Complaint.id.desc()).limit(limit).offset(offset)
    )
    return [await _out(session, c, personal=False, with_timeline=False) for c in rows], total


async def act(
    session: AsyncSession, number: str, body: ActionIn, *, user: User, now: dt.datetime
) -> ComplaintOut:
    """Acknowledge, answer, redirect (to another office, e.g. the operator's correction) or
    close a complaint."""
    complaint = await _load(session, number, user, lock=True)
    if user.role not in _MAY[body.action]:
        raise Forbidden(f"Your role may not {body.action} a complaint")
    if body.action == "answer" and not body.comment:
        raise InvalidInput("The answer is required (comment)", field="comment")
    if body.action == "redirect" and not body.agency_code:
        raise InvalidInput("Name the office to redirect to", field="agency_code")
    try:
        status = next_status(complaint.status, body.action)
    except ActionRefused as exc:
        raise Conflict(
            f"A {exc.status} complaint cannot be {body.action}d",
            state=exc.status,
            allowed_from=list(exc.allowed_from),
        ) from exc
    note = None
    if body.action == "redirect":
        assert body.agency_code is not None
        found = await resolve(
            session, service_code=None, municipality=None, agency_code=body.agency_code
        )
        if found.agency.id == complaint.agency_id:
            raise InvalidInput("The complaint is already with this office", field="agency_code")
        previous = await session.get(Agency, complaint.agency_id)
        assert previous is not None  # foreign key
        complaint.agency_id, complaint.agency_chosen_by = found.agency.id, "redirect"
        repository.add_event(
            session,
            complaint,
            "redirected",
            at=now,
            actor=user.username,
            note=f"{previous.code} → {found.agency.code}",
        )
        preference = await repository.preference(session, found.agency.id)
        _forward(session, complaint, preference, now=now, actor=user.username)
    else:
        if body.action == "answer":
            complaint.answer = body.comment
        complaint.status = status
        note = body.comment if body.action == "close" else None
        repository.add_event(session, complaint, status, at=now, actor=user.username, note=note)
    complaint.updated_at = now
    await session.flush()
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action=f"complaints.{body.action}",
        subject_type="complaint",
        subject_id=complaint.number,
    )
    return await _out(session, complaint, personal=user.role in PERSONAL_ROLES)


async def mark_overdue(session: AsyncSession, *, now: dt.datetime, limit: int = 500) -> int:
    """Record deadlines missed by `now` on the timeline, once each. Returns how many."""
    open_ack = ("registered", "forwarded", "delivered")
    rows = await session.scalars(
        select(Complaint)
        .where(
            Complaint.status != "closed",
            or_(
                and_(
                    ~Complaint.ack_overdue,
                    Complaint.status.in_(open_ack),
                    Complaint.ack_due < now,
                ),
                and_(
                    ~Complaint.answer_overdue,
                    Complaint.status != "answered",
                    Complaint.answer_due < now,
                ),
            ),
        )
        .order_by(Complaint.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    missed_total = 0
    for complaint in rows:
        state = DeadlineState(
            complaint.status,
            complaint.ack_due,
            complaint.answer_due,
            complaint.ack_overdue,
            complaint.answer_overdue,
        )
        for deadline in newly_overdue(state, now):
            if deadline == "acknowledgement":
                complaint.ack_overdue = True
            else:
                complaint.answer_overdue = True
            repository.add_event(
                session, complaint, "overdue", at=now, actor="clock", note=deadline
            )
            notifier.overdue(deadline)
            missed_total += 1
    return missed_total
