"""The request context of every page: who is logged in, their CSRF token, their seat, and the
template renderer with the workspace's Russian labels."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.acd.config import RouterConfig
from services.auth.deps import client_ip
from services.auth.models import Role, User
from services.auth.tokens import InvalidToken, read_token
from services.common.masking import mask_text
from services.common.runtime import Runtime
from services.common.settings import Settings
from services.common.streams import Streams
from services.router.process import load_router_config
from services.workspace.backend import Backend, service_urls
from services.workspace.models import OperatorSeat
from services.workspace.security import SESSION_COOKIE, csrf_for, csrf_valid, submitted_csrf

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

STAFF = frozenset({Role.OPERATOR.value, Role.SUPERVISOR.value, Role.ADMINISTRATOR.value})
SUPERVISORS = frozenset({Role.SUPERVISOR.value, Role.ADMINISTRATOR.value})
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR.value})
#: Who sees citizens' phone numbers in full (each view audited); others see them masked.
PHONE_READERS = frozenset({Role.OPERATOR.value, Role.SUPERVISOR.value})

TOPICS = {
    "general": "Общие вопросы",
    "mfc": "МФЦ",
    "social": "Социальная поддержка",
    "passports": "Паспорта",
    "health": "Здравоохранение",
    "housing": "ЖКХ",
    "status": "Статус обращения",
    "complaints": "Жалобы",
    "techhelp": "Помощь с порталом Госуслуг",
}
STATES = {
    "ready": "Готов",
    "paused": "Пауза",
    "ringing": "Входящий вызов",
    "talking": "Разговор",
    "wrap_up": "Обработка после вызова",
    "offline": "Не в системе",
}
ROLES = {
    "operator": "оператор",
    "supervisor": "супервизор",
    "administrator": "администратор",
    "agency": "ведомство",
}
OUTCOMES = {
    "answered": "отвечен",
    "abandoned": "сброшен",
    "in_progress": "идёт",
    "overflowed": "передан в соседний центр",
    "callback": "обратный звонок",
    "callback_done": "перезвонили",
    "self_service": "самообслуживание",
    "transferred": "переведён",
}

CALLBACK_STATUSES = {
    "pending": "ожидает",
    "dialling": "набор",
    "done": "выполнен",
    "failed": "не дозвонились",
    "cancelled": "отменён",
    "merged": "объединён",
    "closed": "закрыт",
}


def shows_phone(role: str) -> bool:
    return role in PHONE_READERS


def phone_for(role: str, phone: str) -> str:
    """A citizen's number as this role may see it."""
    return phone if shows_phone(role) else mask_text(phone)


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def local_time(value: Any, tz: Any) -> str:
    """An aware datetime, ISO string or Unix time shown in the centre's zone."""
    if isinstance(value, int | float):
        moment = dt.datetime.fromtimestamp(value, dt.UTC)
    elif isinstance(value, str):
        moment = dt.datetime.fromisoformat(value)
    elif isinstance(value, dt.datetime):
        moment = value
    else:
        return ""
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


TEMPLATES.env.globals.update(
    TOPICS=TOPICS,
    STATES=STATES,
    ROLES=ROLES,
    OUTCOMES=OUTCOMES,
    CALLBACK_STATUSES=CALLBACK_STATUSES,
)
TEMPLATES.env.filters.update(clock=clock, local=local_time)


@dataclass(slots=True)
class Staff:
    """The logged-in staff member of one request."""

    user: User
    token: str
    csrf: str
    runtime: Runtime
    settings: Settings
    backend: Backend
    ip: str | None

    @property
    def prefix(self) -> str:
        return self.settings.stream_prefix()

    @property
    def streams(self) -> Streams:
        return Streams(self.runtime.redis, self.prefix)

    def render(
        self, request: Request, name: str, status_code: int = 200, **context: Any
    ) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(
            request,
            name,
            {
                "staff": self,
                "user": self.user,
                "csrf": self.csrf,
                "tz": self.settings.tz,
                **context,
            },
            status_code=status_code,
        )

    def render_text(self, name: str, **context: Any) -> str:
        """A fragment as text (for server-sent events)."""
        template = TEMPLATES.get_template(name)
        return template.render(
            staff=self, user=self.user, csrf=self.csrf, tz=self.settings.tz, **context
        )

    def refuse(self, request: Request, roles: frozenset[str]) -> HTMLResponse | None:
        """A 403 page when the user's role is not one of `roles`."""
        if self.user.role in roles:
            return None
        return self.render(request, "forbidden.html", status_code=403)

    async def seat(self) -> OperatorSeat | None:
        async with self.runtime.sessions() as session:
            seat: OperatorSeat | None = await session.get(OperatorSeat, self.user.id)
            return seat


def _to_login() -> HTTPException:
    return HTTPException(
        status_code=303, detail="Войдите в систему", headers={"Location": "/login"}
    )


async def current_staff(request: Request) -> Staff:
    """The staff member behind the session cookie; no valid session sends the browser to the
    login page, an agency account gets 403 (the workspace is the contact centre's)."""
    runtime: Runtime = request.app.state.runtime
    settings: Settings = request.app.state.settings
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise _to_login()
    try:
        claims = read_token(token, secret=runtime.signing_secret)
    except InvalidToken as exc:
        raise _to_login() from exc
    async with runtime.sessions() as session:
        user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise _to_login()
    if user.role not in STAFF:
        raise HTTPException(status_code=403, detail="Рабочее место — для сотрудников центра")
    return Staff(
        user=user,
        token=token,
        csrf=csrf_for(token, runtime.signing_secret),
        runtime=runtime,
        settings=settings,
        backend=Backend(service_urls(request), token),
        ip=client_ip(request),
    )


async def posting_staff(request: Request) -> Staff:
    """`current_staff` for a POST: the CSRF token must match the session's."""
    staff = await current_staff(request)
    if not csrf_valid(await submitted_csrf(request), staff.csrf):
        raise HTTPException(status_code=403, detail="Неверный CSRF-токен: обновите страницу")
    return staff


StaffDep = Annotated[Staff, Depends(current_staff)]
PostingStaff = Annotated[Staff, Depends(posting_staff)]


def router_config(request: Request) -> RouterConfig:
    """The centre's routing policy (wrap-up times), read once per process."""
    state = request.app.state
    if not hasattr(state, "router_config"):
        state.router_config = load_router_config(state.settings)
    config: RouterConfig = state.router_config
    return config
