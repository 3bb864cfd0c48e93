"""Outdated-information notices: flagged by staff, answered by the responsible agency.

`okno complaints-worker` forwards each new notice to the responsible office (webhook or
e-mail) and records it in `forwarded_at`; offices without a channel, and every agency user,
work them from their inbox here."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import Role, User
from services.common.audit import record_audit
from services.common.problems import Conflict, Forbidden, InvalidInput, NotFound
from services.directory.models import Agency
from services.knowledge.models import CatalogueEntry, FaqEntry, Notice
from services.knowledge.schemas import NoticeAction, NoticeIn, NoticeOut, NoticeWarning
from services.knowledge.workflow import (
    ACTIVE_NOTICE_STATES,
    NOTICE_ACTIONS,
    TransitionRefused,
    next_state,
)


async def _agency(session: AsyncSession, code: str) -> Agency:
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise InvalidInput(f"No office with code {code!r}", field="agency_code")
    return agency


async def _responsible_code(session: AsyncSession, data: NoticeIn) -> str | None:
    """The office responsible for the flagged entry, as the entry itself records it."""
    key = data.subject_key
    if data.subject_type == "agency":
        return key if await session.scalar(select(Agency.id).where(Agency.code == key)) else None
    if data.subject_type == "catalogue":
        entry = await session.scalar(select(CatalogueEntry).where(CatalogueEntry.code == key))
        if entry is None:
            raise InvalidInput(f"No catalogue entry {key!r}", field="subject_key")
        return entry.responsible_agency_code
    if not key.isdigit() or (faq := await session.get(FaqEntry, int(key))) is None:
        raise InvalidInput(f"No FAQ entry {key!r}", field="subject_key")
    if faq.service_code is None:
        return None
    return await session.scalar(
        select(CatalogueEntry.responsible_agency_code).where(
            CatalogueEntry.code == faq.service_code
        )
    )


def to_out(notice: Notice, agency: Agency) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        subject_type=notice.subject_type,
        subject_key=notice.subject_key,
        agency_code=agency.code,
        agency_name=agency.name,
        comment=notice.comment,
        status=notice.status,
        created_by=notice.created_by,
        created_at=notice.created_at,
        updated_at=notice.updated_at,
        resolution=notice.resolution,
        resolved_by=notice.resolved_by,
        resolved_at=notice.resolved_at,
        forwarded_at=notice.forwarded_at,
    )


async def create_notice(session: AsyncSession, data: NoticeIn, *, user: User) -> NoticeOut:
    """Record a notice addressed to the responsible agency."""
    if data.subject_type == "agency" and data.agency_code is None:
        data = data.model_copy(update={"agency_code": data.subject_key})
    responsible = await _responsible_code(session, data)
    if data.subject_type == "agency" and responsible is None:
        raise InvalidInput(f"No office with code {data.subject_key!r}", field="subject_key")
    code = data.agency_code or responsible
    if code is None:
        raise InvalidInput(
            "The entry names no responsible office; give agency_code", field="agency_code"
        )
    agency = await _agency(session, code)
    notice = Notice(
        subject_type=data.subject_type,
        subject_key=data.subject_key,
        agency_id=agency.id,
        comment=data.comment,
        status="open",
        created_by=user.username,
        created_by_id=user.id,
    )
    session.add(notice)
    await session.flush()
    await session.refresh(notice)
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="knowledge.notice.create",
        subject_type="notice",
        subject_id=str(notice.id),
        details={"subject_type": data.subject_type, "subject_key": data.subject_key},
    )
    return to_out(notice, agency)


def _visible_to(user: User, notice: Notice) -> bool:
    return user.role != Role.AGENCY.value or notice.agency_id == user.agency_id


async def get_notice(session: AsyncSession, notice_id: int, *, user: User) -> NoticeOut:
    """One notice; agency users see only their agency's (others look absent to them)."""
    row = (
        await session.execute(
            select(Notice, Agency)
            .join(Agency, Agency.id == Notice.agency_id)
            .where(Notice.id == notice_id)
        )
    ).one_or_none()
    if row is None or not _visible_to(user, row[0]):
        raise NotFound(f"No notice {notice_id}")
    return to_out(row[0], row[1])


async def list_notices(
    session: AsyncSession,
    *,
    user: User,
    status: str | None,
    subject_type: str | None,
    agency_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[NoticeOut], int]:
    """Notices newest first; an agency user's list is the agency's inbox."""
    query = select(Notice, Agency).join(Agency, Agency.id == Notice.agency_id)
    if user.role == Role.AGENCY.value:
        query = query.where(Notice.agency_id == user.agency_id)
    if agency_code:
        query = query.where(Agency.code == agency_code)
    if status:
        query = query.where(Notice.status == status)
    if subject_type:
        query = query.where(Notice.subject_type == subject_type)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit).offset(offset)
    )
    return [to_out(n, a) for n, a in rows], total


async def act_on_notice(
    session: AsyncSession, notice_id: int, body: NoticeAction, *, user: User, now: dt.datetime
) -> NoticeOut:
    """Move a notice on. The addressed agency takes, resolves or dismisses it; supervisors and
    administrators may do the same on its behalf and reopen it; operators only flag."""
    notice = await session.get(Notice, notice_id, with_for_update=True)
    if notice is None or not _visible_to(user, notice):
        raise NotFound(f"No notice {notice_id}")
    if user.role == Role.OPERATOR.value:
        raise Forbidden("Operators flag entries; the agency or a supervisor handles notices")
    if body.action == "reopen" and user.role == Role.AGENCY.value:
        raise Forbidden("Only supervisors and administrators reopen a notice")
    if body.action in ("resolve", "dismiss") and not body.comment:
        raise InvalidInput("Say what was done (comment)", field="comment")
    try:
        notice.status = next_state(NOTICE_ACTIONS, notice.status, body.action)
    except TransitionRefused as exc:
        raise Conflict(
            f"A {exc.state} notice cannot be {body.action}d",
            state=exc.state,
            allowed_from=exc.allowed_from,
        ) from exc
    if body.action in ("resolve", "dismiss"):
        notice.resolution, notice.resolved_by, notice.resolved_at = body.comment, user.username, now
    elif body.action == "reopen":
        notice.resolution = notice.resolved_by = notice.resolved_at = None
    notice.updated_at = now
    await session.flush()
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action=f"knowledge.notice.{body.action}",
        subject_type="notice",
        subject_id=str(notice.id),
    )
    agency = await session.get(Agency, notice.agency_id)
    assert agency is not None  # the foreign key guarantees it
    return to_out(notice, agency)


async def active_warnings(
    session: AsyncSession, subject_type: str, keys: list[str]
) -> dict[str, list[NoticeWarning]]:
    """Open notices per flagged entry, for the warning operators see next to it."""
    if not keys:
        return {}
    rows = await session.scalars(
        select(Notice)
        .where(
            Notice.subject_type == subject_type,
            Notice.subject_key.in_(keys),
            Notice.status.in_(ACTIVE_NOTICE_STATES),
        )
        .order_by(Notice.created_at)
    )
    found: dict[str, list[NoticeWarning]] = defaultdict(list)
    for notice in rows:
        found[notice.subject_key].append(
            NoticeWarning(
                notice_id=notice.id,
                status=notice.status,
                comment=notice.comment,
                created_at=notice.created_at,
            )
        )
    return found
