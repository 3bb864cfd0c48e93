"""FAQ entries: editing, the review workflow, usage counts and the voice menu's top answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import User
from services.common.audit import record_audit
from services.common.problems import Conflict, InvalidInput, NotFound
from services.directory.models import Municipality, Service
from services.knowledge.models import FaqEntry, FaqUsage
from services.knowledge.schemas import FaqIn, UsageOut
from services.knowledge.workflow import (
    EDITABLE_FAQ_STATES,
    FAQ_ACTIONS,
    TransitionRefused,
    next_state,
)

#: How far back usage counts order the voice menu's "most asked" answers.
POPULAR_WINDOW = dt.timedelta(days=90)


async def check_references(session: AsyncSession, data: FaqIn) -> None:
    """The service code and municipality must exist in the directory."""
    errors = []
    if data.service_code and not await session.scalar(
        select(Service.id).where(Service.code == data.service_code)
    ):
        errors.append(
            {"field": "service_code", "message": f"unknown service {data.service_code!r}"}
        )
    if data.municipality and not await session.scalar(
        select(Municipality.id).where(Municipality.name == data.municipality)
    ):
        errors.append(
            {"field": "municipality", "message": f"unknown municipality {data.municipality!r}"}
        )
    if errors:
        raise InvalidInput(errors[0]["message"], errors=errors)


async def get_entry(session: AsyncSession, faq_id: int, *, lock: bool = False) -> FaqEntry:
    entry = await session.get(FaqEntry, faq_id, with_for_update=lock)
    if entry is None:
        raise NotFound(f"No FAQ entry {faq_id}")
    return entry


async def create_entry(
    session: AsyncSession,
    data: FaqIn,
    *,
    actor: str,
    actor_id: int | None,
    now: dt.datetime,
    status: str = "draft",
) -> FaqEntry:
    """A new entry, a draft unless an import says otherwise."""
    await check_references(session, data)
    entry = FaqEntry(**data.model_dump(), status=status, version=1, updated_by=actor)
    if status == "published":
        entry.published_at = now
    session.add(entry)
    await session.flush()
    await session.refresh(entry)
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="knowledge.faq.create",
        subject_type="faq",
        subject_id=str(entry.id),
    )
    return entry


async def update_entry(
    session: AsyncSession, faq_id: int, data: FaqIn, *, user: User, now: dt.datetime
) -> FaqEntry:
    """Edit a draft; published text changes only by withdrawing, editing and reviewing again."""
    entry = await get_entry(session, faq_id, lock=True)
    if entry.status not in EDITABLE_FAQ_STATES:
        raise Conflict(
            f"Only drafts are edited; this entry is {entry.status}",
            state=entry.status,
        )
    await check_references(session, data)
    for name, value in data.model_dump().items():
        setattr(entry, name, value)
    entry.version += 1
    entry.updated_by = user.username
    entry.updated_at = now
    await session.flush()
    await session.refresh(entry)
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="knowledge.faq.update",
        subject_type="faq",
        subject_id=str(entry.id),
        details={"version": entry.version},
    )
    return entry


async def transition(
    session: AsyncSession, faq_id: int, action: str, *, user: User, now: dt.datetime
) -> FaqEntry:
    """Apply a workflow action (submit, publish, return, withdraw, archive, restore)."""
    entry = await get_entry(session, faq_id, lock=True)
    try:
        entry.status = next_state(FAQ_ACTIONS, entry.status, action)
    except TransitionRefused as exc:
        raise Conflict(
            f"Cannot {action} an entry that is {exc.state}",
            state=exc.state,
            allowed_from=exc.allowed_from,
        ) from exc
    if entry.status == "published":
        entry.published_at = now
    entry.updated_by = user.username
    entry.updated_at = now
    await session.flush()
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action=f"knowledge.faq.{action}",
        subject_type="faq",
        subject_id=str(entry.id),
        details={"status": entry.status},
    )
    return entry


async def list_entries(
    session: AsyncSession,
    *,
    statuses: tuple[str, ...],
    topic: str | None,
    service_code: str | None,
    limit: int,
    offset: int,
) -> tuple[list[FaqEntry], int]:
    """Entries by topic and id, without a text query."""
    query = select(FaqEntry).where(FaqEntry.status.in_(statuses))
    if topic:
        query = query.where(FaqEntry.topic == topic)
    if service_code:
        query = query.where(FaqEntry.service_code == service_code)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(FaqEntry.topic, FaqEntry.id).limit(limit).offset(offset)
    )
    return list(rows), total


async def record_usage(
    session: AsyncSession, faq_id: int, *, caller_group: str, day: dt.date
) -> None:
    """Count one use of a published answer for a caller group on a day (an atomic upsert)."""
    published = await session.scalar(
        select(FaqEntry.id).where(FaqEntry.id == faq_id, FaqEntry.status == "published")
    )
    if published is None:
        raise NotFound(f"No published FAQ entry {faq_id}")
    statement = insert(FaqUsage).values(faq_id=faq_id, caller_group=caller_group, day=day, count=1)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[FaqUsage.faq_id, FaqUsage.caller_group, FaqUsage.day],
            set_={"count": FaqUsage.count + 1},
        )
    )


async def most_frequent(
    session: AsyncSession,
    *,
    caller_group: str | None,
    topic: str | None,
    since: dt.date,
    until: dt.date,
    limit: int,
) -> list[UsageOut]:
    """The most used answers in a period, per caller group (R17)."""
    total = func.sum(FaqUsage.count).label("total")
    query = (
        select(FaqEntry.id, FaqEntry.question, FaqEntry.topic, FaqUsage.caller_group, total)
        .join(FaqUsage, FaqUsage.faq_id == FaqEntry.id)
        .where(FaqUsage.day.between(since, until))
        .group_by(FaqEntry.id, FaqUsage.caller_group)
        .order_by(total.desc(), FaqEntry.id)
        .limit(limit)
    )
    if caller_group:
        query = query.where(FaqUsage.caller_group == caller_group)
    if topic:
        query = query.where(FaqEntry.topic == topic)
    rows = await session.execute(query)
    return [
        UsageOut(faq_id=i, question=q, topic=t, caller_group=g, count=int(c))
        for i, q, t, g, c in rows
    ]


async def top_published(
    session: AsyncSession,
    *,
    topic: str | None,
    service_code: str | None,
    municipality: str | None,
    today: dt.date,
    limit: int,
) -> list[FaqEntry]:
    """Published answers for the voice menu, the most used of the last 90 days first."""
    usage = (
        select(FaqUsage.faq_id, func.sum(FaqUsage.count).label("uses"))
        .where(FaqUsage.day >= today - POPULAR_WINDOW)
        .group_by(FaqUsage.faq_id)
        .subquery()
    )
    query = (
        select(FaqEntry)
        .outerjoin(usage, usage.c.faq_id == FaqEntry.id)
        .where(FaqEntry.status == "published")
    )
    if topic:
        query = query.where(FaqEntry.topic == topic)
    if service_code:
        query = query.where(FaqEntry.service_code == service_code)
    if municipality:
        query = query.where(
            (FaqEntry.municipality.is_(None))
            | (func.lower(FaqEntry.municipality) == municipality.strip().lower())
        )
    query = query.order_by(func.coalesce(usage.c.uses, 0).desc(), FaqEntry.id).limit(limit)
    return list(await session.scalars(query))
