"""The supervisor console: live queues and operators, the day's service level, callbacks due,
night and emergency switches, forcing an operator's state, and the wallboard link."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from services.acd import events as r
from services.common.audit import record_audit
from services.router.live import live_key, parse_live
from services.router.wire import send_events
from services.workspace import feeds
from services.workspace.backend import BackendError
from services.workspace.console import agent_rows, longest_wait, service_level
from services.workspace.web import SUPERVISORS, PostingStaff, Staff, StaffDep

router = APIRouter(prefix="/supervisor", include_in_schema=False)

KEEPALIVE_S = 1.0
STREAM_S = 30.0  # as the operator's stream: the browser reconnects, the server never waits long


@router.get("")
async def console(request: Request, staff: StaffDep) -> Response:
    refused = staff.refuse(request, SUPERVISORS)
    if refused is not None:
        return refused
    modes, modes_error = await _modes(staff)
    return staff.render(
        request,
        "supervisor.html",
        modes=modes,
        modes_error=modes_error,
        **_live_context(staff, await feeds.live_state(staff.streams, staff.prefix)),
    )


@router.get("/wallboard")
async def wallboard(request: Request, staff: StaffDep) -> Response:
    """Open the built-in wallboard: the supervision service issues a key (a link valid for a
    working day, audited there) and the browser goes to the board with it."""
    refused = staff.refuse(request, SUPERVISORS)
    if refused is not None:
        return refused
    try:
        issued = await staff.backend.call("POST", "supervision", "/supervision/wallboard/key")
    except BackendError as exc:
        return staff.render(request, "unavailable.html", message=exc.message, status_code=502)
    return RedirectResponse(f"{staff.backend.urls['supervision']}{issued['url']}", 303)


@router.get("/live")
async def live(request: Request, staff: StaffDep) -> Response:
    refused = staff.refuse(request, SUPERVISORS)
    if refused is not None:
        return refused
    document = await feeds.live_state(staff.streams, staff.prefix)
    return staff.render(request, "live.html", **_live_context(staff, document))


async def _modes(staff: Staff) -> tuple[dict[str, Any] | None, str]:
    try:
        return await staff.backend.get("supervision", "/supervision/modes"), ""
    except BackendError as exc:
        return None, exc.message


def _live_context(staff: Staff, document: dict[str, Any] | None) -> dict[str, Any]:
    now = time.time()
    return {
        "document": document,
        "age": now - float(document.get("at", now)) if document else None,
        "agents": agent_rows(document, now) if document else [],
        "longest": longest_wait(document) if document else 0.0,
        "level": service_level(document),
        "now": now,
    }


@router.get("/events")
async def events(request: Request, staff: StaffDep) -> Response:
    """Server-sent events: the live table re-rendered on every document the router publishes."""
    refused = staff.refuse(request, SUPERVISORS)
    if refused is not None:
        return refused
    return StreamingResponse(
        _published(request, staff),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _published(request: Request, staff: Staff) -> AsyncIterator[str]:
    pubsub: Any = staff.runtime.redis.pubsub()
    await pubsub.subscribe(live_key(staff.prefix))
    try:
        yield "retry: 500\n\n"
        deadline = time.monotonic() + STREAM_S
        while time.monotonic() < deadline and not await request.is_disconnected():
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=KEEPALIVE_S)
            if message is None:
                yield ": keep-alive\n\n"
                continue
            document = parse_live(message["data"])  # the published document itself
            html = staff.render_text("live.html", **_live_context(staff, document))
            data = "\n".join(f"data: {line}" for line in html.splitlines())
            yield f"event: live\n{data}\n\n"
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()


@router.post("/modes")
async def modes(
    request: Request,
    staff: PostingStaff,
    night_override: Annotated[str, Form(pattern="^(auto|night|day)$")],
    emergency: Annotated[bool, Form()] = False,
    announcement: Annotated[str, Form(max_length=600)] = "",
) -> Response:
    refused = staff.refuse(request, SUPERVISORS)
    if refused is not None:
        return refused
    body: dict[str, Any] = {"night_override": night_override, "emergency": emergency}
    if announcement.strip():
        body["announcement"] = announcement.strip()
    try:
        changed = await staff.backend.call("PUT", "supervision", "/supervision/modes", json=body)
    except BackendError as exc:
        return staff.render(request, "result.html", status_code=422, ok=False, message=exc.message)
    message = "Режим ЧС включён" if changed["emergency"] else "Режим ЧС выключен"
    night = {"auto": "по расписанию", "night": "включён", "day": "выключен"}
    return staff.render(
        request,
        "result.html",
        ok=True,
        message=message,
        details=[f"Ночной режим: {night[changed['night_override']]}"],
    )


@router.post("/force")
async def force(
    request: Request,
    staff: PostingStaff,
    agent_id: Annotated[str, Form(pattern=r"^[A-Za-z0-9_.-]{1,64}$")],
    action: Annotated[str, Form(pattern="^(ready|pause|logout)$")],
) -> Response:
    """Force an operator's state through the router, as if they pressed the button."""
    refused = staff.refuse(request, SUPERVISORS)
    if refused is not None:
        return refused
    event: r.Event
    if action == "ready":
        event = r.AgentReady(agent_id)
    elif action == "pause":
        event = r.AgentPaused(agent_id, "supervisor")
    else:
        event = r.AgentLoggedOut(agent_id)
    await send_events(staff.streams, event)
    async with staff.runtime.sessions() as session, session.begin():
        await record_audit(
            session,
            actor=staff.user.username,
            actor_id=staff.user.id,
            action="workspace.agent.force",
            subject_type="agent",
            subject_id=agent_id,
            details={"state": action},
            ip=staff.ip,
        )
    labels = {"ready": "готов", "pause": "пауза", "logout": "выход из линии"}
    return staff.render(
        request, "result.html", ok=True, message=f"Оператор {agent_id}: {labels[action]}"
    )
