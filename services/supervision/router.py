"""HTTP endpoints of the supervision service."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, StreamingResponse

from services.auth.deps import SupervisorUser, require_roles
from services.auth.models import Role, User
from services.common.audit import record_audit
from services.common.deps import RuntimeDep, SessionDep, SettingsDep
from services.common.problems import Unauthorized
from services.common.runtime import Runtime
from services.common.settings import Settings
from services.common.streams import Streams
from services.supervision import service
from services.supervision import wallboard as wb
from services.supervision.schemas import ModesIn, ModesOut, WallboardKeyOut

router = APIRouter(prefix="/supervision", tags=["supervision"])

StaffUser = Annotated[
    User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR))
]


@router.get("/modes", response_model=ModesOut, summary="Night and emergency modes in force")
async def get_modes(_user: StaffUser, runtime: RuntimeDep, settings: SettingsDep) -> ModesOut:
    prefix = settings.stream_prefix()
    return await service.read_modes(Streams(runtime.redis, prefix), prefix)


@router.put("/modes", response_model=ModesOut, summary="Switch night or emergency mode")
async def put_modes(
    body: ModesIn,
    user: SupervisorUser,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
) -> ModesOut:
    prefix = settings.stream_prefix()
    return await service.change_modes(
        session, Streams(runtime.redis, prefix), prefix, body, actor=user.username, actor_id=user.id
    )


WallboardKey = Annotated[str, Query(max_length=2000, description="Key from POST /wallboard/key")]
_PAGE = files("services.supervision").joinpath("wallboard.html")
_REFUSED = (
    '<!doctype html><html lang="ru"><meta charset="utf-8"><title>Табло</title>'
    '<body style="font: 2rem sans-serif; background:#111; color:#eee; padding:2rem">'
    "<p>Ссылка на табло недействительна или устарела. Получите новую ссылку у супервизора.</p>"
)


async def _check_key(key: str, runtime: Runtime, settings: Settings) -> datetime:
    """The key's expiry, if it is valid and its staff member still active."""
    try:
        user_id, expires = wb.read_key(
            key, secret=runtime.signing_secret, centre=settings.centre_id
        )
    except wb.InvalidKey as exc:
        raise Unauthorized(f"The wallboard key is not valid: {exc}") from exc
    async with runtime.sessions() as session:
        user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account that opened this wallboard is disabled")
    return expires


@router.post(
    "/wallboard/key",
    response_model=WallboardKeyOut,
    summary="A key (link) that opens the wallboard on a screen for a working day",
)
async def wallboard_key(
    user: StaffUser, session: SessionDep, runtime: RuntimeDep, settings: SettingsDep
) -> WallboardKeyOut:
    key, expires = wb.issue_key(
        secret=runtime.signing_secret, user_id=user.id, centre=settings.centre_id
    )
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="supervision.wallboard_key",
        subject_type="centre",
        subject_id=settings.stream_prefix(),
        details={"expires_at": expires.isoformat()},
    )
    return WallboardKeyOut(key=key, url=f"/supervision/wallboard?key={key}", expires_at=expires)


@router.get(
    "/wallboard",
    response_class=HTMLResponse,
    summary="The built-in wallboard page (Russian, for a big screen)",
)
async def wallboard_page(
    key: WallboardKey, runtime: RuntimeDep, settings: SettingsDep
) -> HTMLResponse:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    try:
        await _check_key(key, runtime, settings)
    except Unauthorized:
        return HTMLResponse(_REFUSED, status_code=401, headers=headers)
    return HTMLResponse(_PAGE.read_text(encoding="utf-8"), headers=headers)


@router.get(
    "/wallboard/stream",
    summary="Server-sent events: the wallboard figures each time the router publishes them",
    response_class=StreamingResponse,
)
async def wallboard_stream(
    key: WallboardKey, runtime: RuntimeDep, settings: SettingsDep
) -> StreamingResponse:
    expires = await _check_key(key, runtime, settings)
    return StreamingResponse(
        wb.board_events(runtime.redis, settings.stream_prefix(), expires_at=expires),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
