"""Administrators map staff accounts to router agents: seat (agent id) and skill levels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.auth.models import Role, User
from services.common.problems import AppError
from services.workspace.console import format_levels, parse_levels
from services.workspace.models import OperatorSeat
from services.workspace.seats import assign_seat
from services.workspace.web import ADMINISTRATORS, PostingStaff, Staff, StaffDep

router = APIRouter(prefix="/admin", include_in_schema=False)

AGENT_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"


async def _page(request: Request, staff: Staff, message: str = "", ok: bool = True) -> Response:
    async with staff.runtime.sessions() as session:
        rows = await session.execute(
            select(User, OperatorSeat)
            .outerjoin(OperatorSeat, OperatorSeat.user_id == User.id)
            .where(User.role.in_((Role.OPERATOR.value, Role.SUPERVISOR.value)), User.is_active)
            .order_by(User.username)
            .limit(500)
        )
        people = [(user, seat) for user, seat in rows]
    return staff.render(
        request,
        "seats.html",
        status_code=200 if ok else 422,
        people=people,
        message=message,
        ok=ok,
        format_levels=format_levels,
    )


@router.get("/seats")
async def seats(request: Request, staff: StaffDep) -> Response:
    refused = staff.refuse(request, ADMINISTRATORS)
    return refused or await _page(request, staff)


@router.post("/seats")
async def save_seat(
    request: Request,
    staff: PostingStaff,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    agent_id: Annotated[str, Form(pattern=AGENT_PATTERN)],
    skills: Annotated[str, Form(max_length=500)] = "",
    languages: Annotated[str, Form(max_length=200)] = "ru:5",
) -> Response:
    """Create or change a seat; the operator's next "ready" logs in with these levels."""
    refused = staff.refuse(request, ADMINISTRATORS)
    if refused is not None:
        return refused
    try:
        skill_levels = parse_levels(skills)
        language_levels = parse_levels(languages)
    except ValueError as exc:
        return await _page(request, staff, str(exc), ok=False)
    if not skill_levels or not language_levels:
        return await _page(request, staff, "Нужен хотя бы один навык и один язык.", ok=False)
    try:
        async with staff.runtime.sessions() as session, session.begin():
            await assign_seat(
                session,
                username=username,
                agent_id=agent_id,
                skills=skill_levels,
                languages=language_levels,
                actor=staff.user.username,
                actor_id=staff.user.id,
                ip=staff.ip,
            )
    except AppError as exc:
        return await _page(request, staff, exc.detail, ok=False)
    except IntegrityError:  # another administrator gave the seat away at the same moment
        return await _page(request, staff, f"Место {agent_id} уже занято", ok=False)
    return await _page(request, staff, f"Место {agent_id} закреплено за {username}.")
