"""Logging in and out of the workspace with the staff accounts of the auth service."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.acd import events as r
from services.auth import service as accounts
from services.auth.deps import client_ip
from services.auth.models import Role
from services.auth.tokens import issue_token
from services.common.problems import AppError
from services.common.runtime import Runtime
from services.common.settings import Settings
from services.router.wire import send_events
from services.workspace.security import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    csrf_valid,
    new_login_token,
    set_cookie,
)
from services.workspace.web import STAFF, TEMPLATES, PostingStaff

router = APIRouter(include_in_schema=False)

HOME = {
    Role.OPERATOR.value: "/operator",
    Role.SUPERVISOR.value: "/supervisor",
    Role.ADMINISTRATOR.value: "/supervisor",
}


def _login_page(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    token = new_login_token()
    response = TEMPLATES.TemplateResponse(
        request, "login.html", {"csrf": token, "error": error}, status_code=status_code
    )
    set_cookie(response, LOGIN_COOKIE, token, settings, max_age=3600)
    return response


@router.get("/")
async def home(request: Request) -> Response:
    return RedirectResponse("/operator", status_code=303)


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    return _login_page(request)


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(alias=CSRF_FIELD, max_length=100)] = "",
) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings: Settings = request.app.state.settings
    if not csrf_valid(csrf, request.cookies.get(LOGIN_COOKIE, "")):
        return _login_page(request, "Форма устарела, войдите ещё раз.", status_code=403)
    policy = accounts.LockoutPolicy.of(settings)
    async with runtime.sessions() as session:
        outcome = await accounts.authenticate(
            session,
            username=username,
            password=password,
            policy=policy,
            now=datetime.now(UTC),
            ip=client_ip(request),
        )
        await session.commit()
    if isinstance(outcome, AppError):
        return _login_page(request, _login_error(outcome), status_code=outcome.status)
    if outcome.role not in STAFF:
        return _login_page(request, "Рабочее место — для сотрудников центра.", status_code=403)
    token, _expires = issue_token(
        secret=runtime.signing_secret,
        user_id=outcome.id,
        username=outcome.username,
        role=outcome.role,
        agency_id=outcome.agency_id,
        ttl_seconds=settings.jwt_ttl_seconds,
    )
    response = RedirectResponse(HOME[outcome.role], status_code=303)
    set_cookie(response, SESSION_COOKIE, token, settings, max_age=settings.jwt_ttl_seconds)
    clear_cookie(response, LOGIN_COOKIE, settings)
    return response


def _login_error(error: AppError) -> str:
    if error.status == 429:
        return "Слишком много неудачных попыток: вход временно заблокирован."
    return "Неверное имя пользователя или пароль."


@router.post("/logout")
async def logout(staff: PostingStaff) -> Response:
    """End the session; an operator also leaves the line, so no call is offered to an empty
    seat."""
    seat = await staff.seat()
    if seat is not None:
        await send_events(staff.streams, r.AgentLoggedOut(seat.agent_id))
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(response, SESSION_COOKIE, staff.settings)
    return response
