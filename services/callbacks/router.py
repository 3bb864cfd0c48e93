"""HTTP endpoints of callbacks: scheduling by staff, lists, one callback with its attempts,
cancelling, and the figures of the callback promise."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from redis.exceptions import RedisError

from services.acd import events as r
from services.auth.deps import SupervisorUser, client_ip, require_roles
from services.auth.models import Role, User
from services.callbacks import service
from services.callbacks.resume import requested_event
from services.callbacks.schemas import CallbackIn, CallbackOut, CancelIn, StatsOut, Status
from services.common.deps import PageDep, RuntimeDep, SessionDep, SettingsDep
from services.common.pagination import Page
from services.common.problems import AppError
from services.common.streams import Streams
from services.router.wire import send_events

router = APIRouter(prefix="/callbacks", tags=["callbacks"])

Staff = Annotated[User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR))]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100, description="Repeat-safe scheduling"),
]
CallbackId = Annotated[str, Path(max_length=128)]


class RouterUnreachable(AppError):
    status, error_id, title = 503, "router-unreachable", "Saved, but the router was not told"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def tell_router(streams: Streams, event: r.Event, callback_id: str) -> None:
    try:
        await send_events(streams, event)
    except (OSError, TimeoutError, RedisError) as exc:
        raise RouterUnreachable(
            f"Callback {callback_id} is saved but the router could not be told; "
            "repeat the request (with the same Idempotency-Key when scheduling)",
            callback_id=callback_id,
        ) from exc


@router.post(
    "",
    response_model=CallbackOut,
    status_code=status.HTTP_201_CREATED,
    summary="Schedule a callback to a citizen",
)
async def schedule(
    body: CallbackIn,
    user: Staff,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> CallbackOut:
    """Saved first, then sent to the router, which decides when it is due (and merges it into
    a callback already waiting for the same number). A repeat with the same Idempotency-Key
    returns the first one (200) and tells the router again if it has not seen it yet."""
    now = _now()
    row, created = await service.schedule(
        session,
        body,
        user=user,
        centre=settings.centre_id,
        now=now,
        idempotency_key=idempotency_key,
    )
    result = service.out(row, now=now, personal=True)
    await session.commit()  # persisted before the router hears of it
    if created or (row.status == "pending" and row.last_entry is None):
        streams = Streams(runtime.redis, settings.stream_prefix())
        await tell_router(streams, requested_event(row), row.callback_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("", response_model=Page[CallbackOut], summary="Callbacks (operator: waiting and own)")
async def listing(
    user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    topic: Annotated[str | None, Query(max_length=32)] = None,
    overdue: bool | None = None,
) -> Page[CallbackOut]:
    items, total = await service.listing(
        session,
        user=user,
        centre=settings.centre_id,
        now=_now(),
        status=status_,
        topic=topic,
        overdue=overdue,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[CallbackOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/stats", response_model=StatsOut, summary="Figures of the callback promise")
async def stats(_user: SupervisorUser, session: SessionDep, settings: SettingsDep) -> StatsOut:
    return await service.stats(session, centre=settings.centre_id, now=_now(), tz=settings.tz)


@router.get("/{callback_id}", response_model=CallbackOut, summary="One callback with attempts")
async def read(
    callback_id: CallbackId,
    user: Staff,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
) -> CallbackOut:
    return await service.read(
        session,
        callback_id,
        user=user,
        centre=settings.centre_id,
        now=_now(),
        ip=client_ip(request),
    )


@router.post("/{callback_id}/cancel", response_model=CallbackOut, summary="Cancel a callback")
async def cancel(
    callback_id: CallbackId,
    user: SupervisorUser,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    body: CancelIn | None = None,
) -> CallbackOut:
    """Cancelled at once here; the router then drops it (if it has not dialled it yet)."""
    now = _now()
    reason = body.reason if body else "cancelled"
    row = await service.cancel(
        session, callback_id, user=user, centre=settings.centre_id, reason=reason, now=now
    )
    result = service.out(row, now=now)
    await session.commit()
    streams = Streams(runtime.redis, settings.stream_prefix())
    await tell_router(streams, r.CallbackCancelled(callback_id, reason), callback_id)
    return result
