"""The operator's screen: state buttons, the incoming-call card, live updates and the
conversation's actions (booking, complaint, notice, callback, journal, transfer)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select

from services.acd import events as r
from services.callbacks.phones import BadNumber, to_e164
from services.calls.models import CallRecord
from services.common.audit import record_audit
from services.router.wire import ROUTER_LOG, send_events
from services.workspace import feeds, menu_labels
from services.workspace.agent_state import AgentView, CallInfo, concerns
from services.workspace.backend import BackendError
from services.workspace.models import JournalEntry, OperatorSeat
from services.workspace.web import (
    TOPICS,
    PostingStaff,
    Staff,
    StaffDep,
    local_time,
    phone_for,
    router_config,
    shows_phone,
)

router = APIRouter(prefix="/operator", include_in_schema=False)

OPERATORS = frozenset({"operator", "supervisor", "administrator"})
PAUSE_REASONS = {
    "break": "Перерыв",
    "lunch": "Обед",
    "training": "Обучение",
    "meeting": "Совещание",
    "technical": "Технические проблемы",
}
#: Seconds between keep-alive comments of the live-update stream; a closed browser is noticed
#: at the next one.
KEEPALIVE_S = 1.0
#: A live-update stream ends after this long and the browser reconnects (re-reading the panel):
#: no response stays open for ever, so a server stops promptly even with browsers open.
STREAM_S = 30.0
EARLIER_CONTACTS = 10

Text = Annotated[str, Form(max_length=4000)]
ShortText = Annotated[str, Form(max_length=200)]
#: A form's one-off submission id (filled by workspace.js, renewed after each success): a
#: repeat of the same submission (a retry after a lost reply) is idempotent, while a second
#: complaint or callback in the same call is a new one.
Submission = Annotated[str, Form(pattern="^[0-9a-f]{0,32}$")]


def _idempotency(submission: str) -> dict[str, str] | None:
    return {"Idempotency-Key": f"ws-{submission}"} if submission else None


async def _seat_or_page(request: Request, staff: Staff) -> OperatorSeat | HTMLResponse:
    refused = staff.refuse(request, OPERATORS)
    if refused is not None:
        return refused
    seat = await staff.seat()
    if seat is None:
        return staff.render(request, "no_seat.html", status_code=409)
    return seat


async def _view(request: Request, staff: Staff, seat: OperatorSeat) -> AgentView:
    config = router_config(request)
    return await feeds.agent_view(
        staff.streams, seat.agent_id, lambda topic: config.topic(topic).wrap_up_seconds
    )


@router.get("")
async def page(request: Request, staff: StaffDep) -> Response:
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    panel = await _panel_context(request, staff, seat)
    return staff.render(
        request, "operator.html", seat=seat, reasons=PAUSE_REASONS, topics=TOPICS, **panel
    )


@router.get("/panel")
async def panel(request: Request, staff: StaffDep) -> Response:
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    context = await _panel_context(request, staff, seat)
    return staff.render(request, "panel.html", seat=seat, reasons=PAUSE_REASONS, **context)


async def _panel_context(request: Request, staff: Staff, seat: OperatorSeat) -> dict[str, Any]:
    view = await _view(request, staff, seat)
    now = time.time()
    state = view.state(now)
    card = None
    if view.call is not None and state in ("ringing", "talking", "wrap_up"):
        card = await _card(staff, seat, view.call, now)
    return {
        "view": view,
        "state": state,
        "in_state": now - view.since if view.since else 0.0,
        "wrap_left": view.wrap_left(now),
        "card": card,
    }


async def _card(staff: Staff, seat: OperatorSeat, call: CallInfo, now: float) -> dict[str, Any]:
    """Everything the operator sees about the caller; the view is audited (personal data)."""
    variables = await feeds.call_variables(staff.streams, call.call_id)
    role = staff.user.role
    async with staff.runtime.sessions() as session, session.begin():
        earlier: list[CallRecord] = []
        journal: list[JournalEntry] = []
        if call.caller:
            earlier = list(
                await session.scalars(
                    select(CallRecord)
                    .where(
                        CallRecord.centre == staff.settings.centre_id,
                        CallRecord.caller == call.caller,
                        CallRecord.call_id != call.call_id,
                    )
                    .order_by(CallRecord.arrived_at.desc())
                    .limit(EARLIER_CONTACTS)
                )
            )
            journal = list(
                await session.scalars(
                    select(JournalEntry)
                    .where(JournalEntry.caller == call.caller, JournalEntry.call_id != call.call_id)
                    .order_by(JournalEntry.at.desc())
                    .limit(EARLIER_CONTACTS)
                )
            )
        await record_audit(
            session,
            actor=staff.user.username,
            actor_id=staff.user.id,
            action="workspace.call_card.view",
            subject_type="call",
            subject_id=call.call_id,
            details={
                "agent_id": seat.agent_id,
                "phone_shown": shows_phone(role),
                "earlier_calls": len(earlier),
                "journal_entries": len(journal),
            },
            ip=staff.ip,
        )
    script, script_error = await _script(staff, call.topic)
    return {
        "call": call,
        "caller": phone_for(role, call.caller) if call.caller else "номер скрыт",
        "waited": call.wait(now),
        "variables": menu_labels.named(
            {k: v for k, v in variables.items() if k not in ("caller", "did")},
            menu_labels.labels(staff.settings),
        ),
        "earlier": earlier,
        "journal": journal,
        "script": script,
        "script_error": script_error,
    }


async def _script(staff: Staff, topic: str) -> tuple[dict[str, Any] | None, str]:
    """The call script of the topic, steps in order from the start (knowledge service)."""
    if topic not in TOPICS or topic == "general":
        return None, ""
    try:
        found = await staff.backend.get("knowledge", "/knowledge/scripts", topic=topic)
        if not found:
            return None, ""
        script: dict[str, Any] = await staff.backend.get(
            "knowledge", f"/knowledge/scripts/{found[0]['code']}"
        )
    except BackendError as exc:
        return None, f"Сценарий недоступен: {exc.message}"
    return script, ""


@router.get("/events")
async def events(request: Request, staff: StaffDep) -> Response:
    """Server-sent events: `changed` whenever the router log has news for this operator."""
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    view = await _view(request, staff, seat)
    start = await feeds.last_log_id(staff.streams)
    calls = {view.call.call_id} if view.call else set()
    return StreamingResponse(
        _changes(request, staff, seat.agent_id, start, calls),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _changes(
    request: Request, staff: Staff, agent_id: str, last: str, calls: set[str]
) -> AsyncIterator[str]:
    redis: Any = staff.runtime.redis
    key = staff.streams.key(ROUTER_LOG)
    yield "retry: 500\n\n"
    deadline = time.monotonic() + STREAM_S
    while time.monotonic() < deadline and not await request.is_disconnected():
        reply = await redis.xread({key: last}, count=200, block=int(KEEPALIVE_S * 1000))
        changed = False
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                last = entry_id
                changed = concerns(agent_id, fields, calls) or changed
        yield f"event: changed\ndata: {last}\n\n" if changed else ": keep-alive\n\n"


@router.post("/state")
async def change_state(
    request: Request,
    staff: PostingStaff,
    action: Annotated[str, Form(pattern="^(ready|pause|done|logout)$")],
    reason: Annotated[str, Form(max_length=40)] = "break",
) -> Response:
    """Tell the router: ready (logging in first), pause with a reason, wrap-up done, log out."""
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    agent = seat.agent_id
    if action == "ready":
        await send_events(
            staff.streams,
            r.AgentLoggedIn(agent, dict(seat.skills), dict(seat.languages)),
            r.AgentReady(agent),
        )
    elif action == "pause":
        label = reason if reason in PAUSE_REASONS else "break"
        await send_events(staff.streams, r.AgentPaused(agent, label))
    elif action == "done":
        await send_events(staff.streams, r.WrapUpEnded(agent))
    else:
        await send_events(staff.streams, r.AgentLoggedOut(agent))
    return Response(status_code=204)


def _result(request: Request, staff: Staff, ok: bool, message: str, **extra: Any) -> Response:
    return staff.render(
        request, "result.html", status_code=200 if ok else 422, ok=ok, message=message, **extra
    )


async def _current_call(request: Request, staff: Staff, seat: OperatorSeat) -> CallInfo | None:
    view = await _view(request, staff, seat)
    return view.call


# --- tools: searches -------------------------------------------------------------------------


@router.get("/faq")
async def faq(
    request: Request, staff: StaffDep, q: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response:
    try:
        page_ = await staff.backend.get("knowledge", "/knowledge/faq/search", q=q, limit=10)
    except BackendError as exc:
        return _result(request, staff, False, f"Поиск не удался: {exc.message}")
    return staff.render(request, "faq.html", hits=page_["items"], total=page_["total"])


@router.get("/catalogue")
async def catalogue(
    request: Request, staff: StaffDep, q: Annotated[str, Query(min_length=1, max_length=100)]
) -> Response:
    try:
        page_ = await staff.backend.get("knowledge", "/knowledge/catalogue", q=q, limit=10)
        entries = [
            await staff.backend.get("knowledge", f"/knowledge/catalogue/{item['code']}")
            for item in page_["items"][:5]
        ]
    except BackendError as exc:
        return _result(request, staff, False, f"Поиск не удался: {exc.message}")
    return staff.render(request, "catalogue.html", entries=entries, total=page_["total"])


@router.get("/directory")
async def directory(
    request: Request,
    staff: StaffDep,
    q: Annotated[str, Query(max_length=100)] = "",
    municipality: Annotated[str, Query(max_length=100)] = "",
    open_now: bool = False,
) -> Response:
    try:
        page_ = await staff.backend.get(
            "directory",
            "/directory/agencies",
            q=q,
            municipality=municipality,
            open_now=str(open_now).lower(),
            limit=15,
        )
    except BackendError as exc:
        return _result(request, staff, False, f"Поиск не удался: {exc.message}")
    return staff.render(request, "directory.html", agencies=page_["items"], total=page_["total"])


# --- conversation actions --------------------------------------------------------------------


@router.get("/slots")
async def slots(
    request: Request,
    staff: StaffDep,
    service: Annotated[str, Query(min_length=1, max_length=64)],
    municipality: Annotated[str, Query(min_length=1, max_length=100)],
) -> Response:
    try:
        found = await staff.backend.get(
            "appointments",
            "/appointments/nearest",
            service=service,
            municipality=municipality,
            count=6,
        )
    except BackendError as exc:
        return _result(request, staff, False, f"Слоты не найдены: {exc.message}")
    return staff.render(
        request,
        "slots.html",
        slots=found["slots"],
        unavailable=found["unavailable"],
        service=service,
    )


@router.post("/booking")
async def book(
    request: Request,
    staff: PostingStaff,
    service: Annotated[str, Form(max_length=64)],
    slot: Annotated[str, Form(max_length=200)],
    name: ShortText = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    consent: Annotated[bool, Form()] = False,
    submission: Submission = "",
) -> Response:
    office, _, starts_at = slot.partition("|")
    citizen = {k: v for k, v in (("name", name), ("phone", phone)) if v}
    body = {
        "office": office,
        "service": service,
        "starts_at": starts_at,
        "channel": "operator",
        "citizen": citizen,
        "consent": consent,
    }
    headers = _idempotency(submission)
    try:
        booking = await staff.backend.call(
            "POST", "appointments", "/appointments/bookings", json=body, headers=headers
        )
    except BackendError as exc:
        return _result(request, staff, False, f"Запись не создана: {exc.message}")
    return _result(
        request,
        staff,
        True,
        f"Записан: код {booking['code']}",
        details=[
            booking["office_name"],
            booking["address"],
            booking["service_name"],
            booking["starts_at"],
        ],
    )


@router.post("/complaint")
async def complaint(
    request: Request,
    staff: PostingStaff,
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    phone: Annotated[str, Form(max_length=20)],
    name: ShortText = "",
    service: Annotated[str, Form(max_length=64)] = "",
    municipality: Annotated[str, Form(max_length=100)] = "",
    agency: Annotated[str, Form(max_length=64)] = "",
    submission: Submission = "",
) -> Response:
    body = {
        "source": "call",
        "service_code": service or None,
        "municipality": municipality or None,
        "agency_code": agency or None,
        "citizen_name": name or None,
        "phone": phone,
        "text": text,
    }
    headers = _idempotency(submission)
    try:
        registered = await staff.backend.call(
            "POST", "complaints", "/complaints", json=body, headers=headers
        )
    except BackendError as exc:
        return _result(request, staff, False, f"Жалоба не зарегистрирована: {exc.message}")
    return _result(
        request,
        staff,
        True,
        f"Жалоба зарегистрирована: № {registered['number']}",
        details=[registered["agency_name"], registered["spoken"]],
    )


@router.post("/notice")
async def notice(
    request: Request,
    staff: PostingStaff,
    subject_type: Annotated[str, Form(pattern="^(catalogue|faq|agency)$")],
    subject_key: Annotated[str, Form(min_length=1, max_length=64)],
    comment: Annotated[str, Form(min_length=1, max_length=4000)],
) -> Response:
    body = {"subject_type": subject_type, "subject_key": subject_key, "comment": comment}
    try:
        created = await staff.backend.call("POST", "knowledge", "/knowledge/notices", json=body)
    except BackendError as exc:
        return _result(request, staff, False, f"Сообщение не отправлено: {exc.message}")
    return _result(
        request,
        staff,
        True,
        f"Сообщение о неактуальной информации № {created['id']} отправлено",
        details=[created["agency_name"]],
    )


@router.post("/callback")
async def callback(
    request: Request,
    staff: PostingStaff,
    phone: Annotated[str, Form(min_length=5, max_length=40)],
    topic: Annotated[str, Form(max_length=32)] = "general",
    note: Annotated[str, Form(max_length=1000)] = "",
    call_id: Annotated[str, Form(max_length=128)] = "",
    submission: Submission = "",
) -> Response:
    body = {"number": phone, "topic": topic, "note": note or None, "call_id": call_id or None}
    headers = _idempotency(submission)
    try:
        created = await staff.backend.call(
            "POST", "callbacks", "/callbacks", json=body, headers=headers
        )
    except BackendError as exc:
        return _result(request, staff, False, f"Обратный звонок не заказан: {exc.message}")
    return _result(
        request,
        staff,
        True,
        f"Обратный звонок заказан на номер {created['caller_masked']}",
        details=[f"Перезвонить до {local_time(created['deadline'], staff.settings.tz)}"]
        if created.get("deadline")
        else [],
    )


@router.get("/callbacks")
async def my_callbacks(request: Request, staff: StaffDep) -> Response:
    """Callbacks assigned to this operator and those still waiting (the service filters)."""
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    try:
        found = await staff.backend.get("callbacks", "/callbacks", limit=50)
    except BackendError as exc:
        return _result(request, staff, False, f"Список недоступен: {exc.message}")
    return staff.render(request, "callbacks.html", callbacks=found["items"], agent=seat.agent_id)


@router.post("/journal")
async def journal(
    request: Request,
    staff: PostingStaff,
    summary: Annotated[str, Form(min_length=1, max_length=4000)],
    satisfied: Annotated[str, Form(pattern="^(yes|no)$")],
    wishes: Text = "",
    reasons: Text = "",
    follow_up: Text = "",
    call_id: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """R17 steps 5-6: satisfied — wishes; not satisfied — reasons and a follow-up plan."""
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    happy = satisfied == "yes"
    if not happy and not (reasons.strip() and follow_up.strip()):
        return _result(request, staff, False, "Укажите причины недовольства и план доработки.")
    call = await _current_call(request, staff, seat)
    caller, topic = (call.caller, call.topic) if call and call.call_id == call_id else ("", "")
    async with staff.runtime.sessions() as session, session.begin():
        if call_id and not caller:
            # Written after the wrap-up: the call's record (this operator's only) still says
            # who called, so the entry joins the citizen's history.
            record = await session.get(CallRecord, (staff.settings.centre_id, call_id))
            if record is not None and record.agent_id == seat.agent_id:
                caller, topic = record.caller, record.topic
        entry = JournalEntry(
            operator_id=staff.user.id,
            agent_id=seat.agent_id,
            call_id=call_id,
            caller=caller,
            topic=topic,
            summary=summary.strip(),
            satisfied=happy,
            wishes=wishes.strip() if happy else "",
            reasons="" if happy else reasons.strip(),
            follow_up="" if happy else follow_up.strip(),
            details={},
        )
        session.add(entry)
        await session.flush()
        await record_audit(
            session,
            actor=staff.user.username,
            actor_id=staff.user.id,
            action="workspace.journal.create",
            subject_type="journal",
            subject_id=str(entry.id),
            details={"call_id": call_id, "satisfied": happy},
            ip=staff.ip,
        )
    return _result(request, staff, True, f"Консультация записана в журнал (№ {entry.id})")


@router.post("/transfer")
async def transfer(
    request: Request,
    staff: PostingStaff,
    number: Annotated[str, Form(min_length=3, max_length=40)],
    call_id: Annotated[str, Form(min_length=1, max_length=128)],
) -> Response:
    """Blind transfer of the connected call to an agency or MFC number (the router decides).

    Only Russian numbers, sent as the trunk dials them (7 and ten digits): a transfer must not
    become a way to dial abroad, and the `to-agency` dialplan matches digits only."""
    try:
        number = to_e164(number)[1:]
    except BadNumber:
        return _result(
            request, staff, False, "Укажите российский номер ведомства или МФЦ: +7 и 10 цифр."
        )
    seat = await _seat_or_page(request, staff)
    if isinstance(seat, HTMLResponse):
        return seat
    call = await _current_call(request, staff, seat)
    if call is None or call.call_id != call_id:
        return _result(request, staff, False, "Перевести можно только текущий разговор.")
    await feeds.request_transfer(
        staff.streams, call_id=call_id, agent_id=seat.agent_id, number=number
    )
    async with staff.runtime.sessions() as session, session.begin():
        await record_audit(
            session,
            actor=staff.user.username,
            actor_id=staff.user.id,
            action="workspace.call.transfer",
            subject_type="call",
            subject_id=call_id,
            details={"agent_id": seat.agent_id, "number": number},
            ip=staff.ip,
        )
    return _result(request, staff, True, f"Вызов переводится на номер {number}")
