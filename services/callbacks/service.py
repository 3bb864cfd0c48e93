"""Scheduling callbacks for staff, showing them and their figures (the caller owns the
transaction). A citizen's number is shown only in the read of one callback, which is audited."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import Role, User
from services.callbacks.models import OPEN, Callback, CallbackAttempt
from services.callbacks.phones import BadNumber, to_e164
from services.callbacks.schemas import AttemptOut, CallbackIn, CallbackOut, StatsOut
from services.common.audit import record_audit
from services.common.problems import Conflict, InvalidInput, NotFound
from services.workspace.models import OperatorSeat

#: Outcomes that say nothing about keeping the promise: staff withdrew it, it was a
#: duplicate, or the citizen called in and was answered.
_NOT_COUNTED = ("cancelled", "merged", "closed")


def _late_undialled(now: dt.datetime) -> ColumnElement[bool]:
    """Open, the citizen's phone has not rung yet, and the first promise has passed."""
    return and_(
        Callback.status.in_(OPEN),
        Callback.first_dialled_at.is_(None),
        # False, not NULL, for a row without a promise yet, so that `~` (the list filter) holds.
        Callback.promised_by.is_not(None),
        Callback.promised_by < now,
    )


def masked(number: str) -> str:
    """A number with all but its first two and last two characters hidden."""
    if len(number) <= 4:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


def _overdue(row: Callback, now: dt.datetime) -> bool:
    return (
        row.status in OPEN
        and row.first_dialled_at is None
        and row.promised_by is not None
        and row.promised_by < now
    )


def out(
    row: Callback,
    *,
    now: dt.datetime,
    personal: bool = False,
    attempts: list[CallbackAttempt] | None = None,
) -> CallbackOut:
    """The API form of a row; `personal` adds the number and the menu variables."""
    result = CallbackOut(
        callback_id=row.callback_id,
        caller_masked=masked(row.caller),
        topic=row.topic,
        language=row.language,
        source=row.source,
        status=row.status,
        requested_at=row.requested_at,
        due_at=row.due_at,
        deadline=row.deadline,
        promised_by=row.promised_by,
        first_dialled_at=row.first_dialled_at,
        overdue=_overdue(row, now),
        attempts=row.attempts,
        last_result=row.last_result,
        agent_id=row.agent_id,
        call_id=row.call_id,
        note=row.note,
        merged_into=row.merged_into,
        answered_at=row.answered_at,
        finished_at=row.finished_at,
        created_by=row.created_by,
    )
    if personal:
        result.caller, result.variables = row.caller, row.variables
    if attempts is not None:
        result.attempt_log = [
            AttemptOut(attempt=a.attempt, agent_id=a.agent_id, result=a.result, at=a.at)
            for a in attempts
        ]
    return result


async def schedule(
    session: AsyncSession,
    data: CallbackIn,
    *,
    user: User,
    centre: str,
    now: dt.datetime,
    idempotency_key: str | None,
) -> tuple[Callback, bool]:
    """Persist a callback staff schedule. Returns the row and whether it is new (False: a
    repeat of the same idempotency key, which returns the first one's row)."""
    try:
        number = to_e164(data.number)
    except BadNumber as exc:
        raise InvalidInput(str(exc), field="number") from exc
    if idempotency_key is not None:
        # Repeats of one key wait for each other, so the second finds the first's row.
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended(idempotency_key, 0)))
        )
        existing = await session.scalar(
            select(Callback).where(
                Callback.centre == centre, Callback.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            if existing.created_by != user.username:  # keys are per person, never a way in
                raise Conflict("This Idempotency-Key was used by another staff member")
            return existing, False
    row = Callback(
        centre=centre,
        callback_id=f"cb-op-{secrets.token_hex(8)}",
        caller=number,
        topic=data.topic,
        language=data.language,
        priority=0,
        source="operator",
        status="pending",
        requested_at=now,
        attempts=0,
        call_id=data.call_id,
        note=data.note,
        variables={},
        created_by=user.username,
        idempotency_key=idempotency_key,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="callbacks.schedule",
        subject_type="callback",
        subject_id=row.callback_id,
        details={"topic": row.topic, "call_id": row.call_id},
    )
    return row, True


async def agent_of(session: AsyncSession, user: User) -> str:
    """The router agent a staff user is: their workspace seat's, else their user name."""
    seat = await session.scalar(
        select(OperatorSeat.agent_id).where(OperatorSeat.user_id == user.id)
    )
    return seat or user.username


async def _visible_to(session: AsyncSession, user: User) -> ColumnElement[bool] | None:
    """What a user may see: an operator, the callbacks waiting and their own; others all."""
    if user.role == Role.OPERATOR.value:
        agent = await agent_of(session, user)
        return or_(Callback.status == "pending", Callback.agent_id == agent)
    return None


async def listing(
    session: AsyncSession,
    *,
    user: User,
    centre: str,
    now: dt.datetime,
    status: str | None,
    topic: str | None,
    overdue: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[CallbackOut], int]:
    """Callbacks newest request first, numbers masked."""
    query = select(Callback).where(Callback.centre == centre)
    visible = await _visible_to(session, user)
    if visible is not None:
        query = query.where(visible)
    if status:
        query = query.where(Callback.status == status)
    if topic:
        query = query.where(Callback.topic == topic)
    if overdue is not None:
        late = _late_undialled(now)
        query = query.where(late if overdue else ~late)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(Callback.requested_at.desc(), Callback.callback_id)
        .limit(limit)
        .offset(offset)
    )
    return [out(row, now=now) for row in rows], total


async def _load(session: AsyncSession, callback_id: str, *, user: User, centre: str) -> Callback:
    """The callback, or 404 also when the user may not see it (no existence leak)."""
    query = select(Callback).where(Callback.centre == centre, Callback.callback_id == callback_id)
    visible = await _visible_to(session, user)
    if visible is not None:
        query = query.where(visible)
    row = await session.scalar(query)
    if row is None:
        raise NotFound(f"No callback {callback_id}")
    return row


async def read(
    session: AsyncSession,
    callback_id: str,
    *,
    user: User,
    centre: str,
    now: dt.datetime,
    ip: str | None,
) -> CallbackOut:
    """One callback with its number, menu variables and attempts; the read is audited."""
    row = await _load(session, callback_id, user=user, centre=centre)
    attempts = await session.scalars(
        select(CallbackAttempt)
        .where(CallbackAttempt.centre == centre, CallbackAttempt.callback_id == callback_id)
        .order_by(CallbackAttempt.at, CallbackAttempt.id)
    )
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="callbacks.read",
        subject_type="callback",
        subject_id=callback_id,
        details={"personal_data_shown": True},
        ip=ip,
    )
    return out(row, now=now, personal=True, attempts=list(attempts))


async def cancel(
    session: AsyncSession,
    callback_id: str,
    *,
    user: User,
    centre: str,
    reason: str,
    now: dt.datetime,
) -> Callback:
    """Cancel an open callback, provisionally: the router's answer to the cancellation (its
    log) has the last word, e.g. when the call had already been placed."""
    row = await session.get(Callback, (centre, callback_id), with_for_update=True)
    if row is None:
        raise NotFound(f"No callback {callback_id}")
    if row.status == "cancelled":
        return row  # a repeat (e.g. after a 503): the router is told again
    if row.status not in OPEN:
        raise Conflict(
            f"A {row.status} callback cannot be cancelled", state=row.status, allowed_from=OPEN
        )
    if row.answered_at is not None:
        raise Conflict(
            "The citizen is already talking to an operator", state="talking", allowed_from=OPEN
        )
    row.status, row.finished_at, row.updated_at = "cancelled", now, now
    row.note = f"{row.note}\n{reason}" if row.note else reason
    await session.flush()
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="callbacks.cancel",
        subject_type="callback",
        subject_id=callback_id,
        details={"reason": reason},
    )
    return row


def day_bounds(now: dt.datetime, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The centre's calendar day around `now`, as UTC times."""
    local = now.astimezone(tz)
    start = dt.datetime.combine(local.date(), dt.time(), tzinfo=tz)
    end = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


async def stats(session: AsyncSession, *, centre: str, now: dt.datetime, tz: ZoneInfo) -> StatsOut:
    """The figures of the callback promise, in one query over the rows.

    Made on time: the citizen's phone first rang no later than the first promise. Counted:
    first dialled, or open and never dialled past the promise, or failed without a dial;
    cancelled, merged and closed callbacks are not."""
    start, end = day_bounds(now, tz)
    is_open = Callback.status.in_(OPEN)
    late_undialled = _late_undialled(now)
    counted = and_(
        Callback.promised_by.is_not(None),
        Callback.status.not_in(_NOT_COUNTED),
        or_(
            Callback.first_dialled_at.is_not(None),
            late_undialled,
            Callback.status == "failed",
        ),
    )
    on_time = and_(counted, Callback.first_dialled_at <= Callback.promised_by)
    today = and_(Callback.promised_by >= start, Callback.promised_by < end)
    finished_today = and_(Callback.finished_at >= start, Callback.finished_at < end)
    failed = Callback.status == "failed"
    count = func.count()
    row: Any = (
        await session.execute(
            select(
                count.filter(is_open),
                func.min(Callback.requested_at).filter(is_open),
                count.filter(late_undialled),
                count.filter(on_time, today),
                count.filter(counted, today),
                count.filter(on_time),
                count.filter(counted),
                count.filter(failed, finished_today),
                count.filter(failed),
            ).where(Callback.centre == centre)
        )
    ).one()
    pending, oldest, overdue, on_today, counted_today, on_total, counted_total = row[:7]
    return StatsOut(
        at=now,
        pending=pending,
        oldest_pending_age_seconds=(now - oldest).total_seconds() if oldest else None,
        overdue=overdue,
        on_time_today=on_today,
        counted_today=counted_today,
        within_10min_ratio_today=on_today / counted_today if counted_today else None,
        on_time_total=on_total,
        counted_total=counted_total,
        within_10min_ratio=on_total / counted_total if counted_total else None,
        failed_today=row[7],
        failed_total=row[8],
    )
