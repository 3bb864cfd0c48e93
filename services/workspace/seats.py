"""Giving a staff account its seat at the router: the admin page and the demo use this."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import Role, User
from services.common.audit import record_audit
from services.common.problems import Conflict, NotFound
from services.workspace.models import OperatorSeat

SEATED_ROLES = (Role.OPERATOR.value, Role.SUPERVISOR.value)


async def assign_seat(
    session: AsyncSession,
    *,
    username: str,
    agent_id: str,
    skills: Mapping[str, int],
    languages: Mapping[str, int],
    actor: str,
    actor_id: int | None,
    ip: str | None = None,
) -> OperatorSeat:
    """Create or change the seat of an operator (or supervisor), audited, in the caller's
    transaction; a seat held by someone else is a conflict."""
    user = await session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if user is None or user.role not in SEATED_ROLES:
        raise NotFound(f"Нет оператора «{username}»")
    holder = await session.scalar(select(OperatorSeat).where(OperatorSeat.agent_id == agent_id))
    if holder is not None and holder.user_id != user.id:
        raise Conflict(f"Место {agent_id} уже занято")
    seat = await session.get(OperatorSeat, user.id)
    if seat is None:
        seat = OperatorSeat(user_id=user.id)
        session.add(seat)
    seat.agent_id = agent_id
    seat.skills = dict(skills)
    seat.languages = dict(languages)
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="workspace.seat.save",
        subject_type="user",
        subject_id=str(user.id),
        details={"agent_id": agent_id, "skills": dict(skills), "languages": dict(languages)},
        ip=ip,
    )
    await session.flush()
    return seat
