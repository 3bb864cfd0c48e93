"""The complaints API over real sockets: registration, roles, agency isolation, audit,
the public status and its limits, deadlines with an injected clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth.models import Role, User
from services.common.audit import AuditEntry
from services.common.db import transaction
from services.common.redis_client import create_redis
from services.complaints import repository, service
from services.complaints.config import ComplaintSettings
from services.complaints.schemas import ComplaintIn
from tests.complaints.conftest import AgencyTokenFactory, OfficeFactory, Tokens, bearer
from tests.complaints.helpers import phone, register, town
from tests.conftest import UserFactory

pytestmark = pytest.mark.integration


async def test_agency_is_found_from_service_and_municipality(
    http: httpx.AsyncClient, complaints_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    place = town()
    agency = await make_office(municipality=place)
    await make_office(municipality=place, kind="mfc")
    reply = await http.get(
        f"{complaints_url}/complaints/responsible",
        params={"service": "snils", "municipality": place},
        headers=bearer(tokens.operator),
    )
    assert reply.json()["agency_code"] == agency
    assert reply.json()["reason"] == "directory"

    made = await register(
        http, complaints_url, tokens.operator, service_code="snils", municipality=place
    )
    assert made["agency_code"] == agency and len(made["number"]) == 9
    spoken = f"{made['number'][:3]} {made['number'][3:6]} {made['number'][6:]}"
    assert spoken in made["spoken"]
    # No delivery preference: the complaint lands in the agency inbox at once.
    assert made["status"] == "delivered"


async def test_operator_corrects_the_agency_and_redirects(
    http: httpx.AsyncClient, complaints_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    first, second = await make_office(municipality=town()), await make_office(municipality=town())
    made = await register(http, complaints_url, tokens.operator, agency_code=first)
    url = f"{complaints_url}/complaints/{made['number']}"
    reply = await http.post(
        f"{url}/actions",
        json={"action": "redirect", "agency_code": second},
        headers=bearer(tokens.operator),
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["agency_code"] == second and body["agency_chosen_by"] == "redirect"
    events = [entry["event"] for entry in body["timeline"]]
    assert events == [
        "registered",
        "forwarded",
        "delivered",
        "redirected",
        "forwarded",
        "delivered",
    ]
    assert body["timeline"][3]["note"] == f"{first} → {second}"


async def test_an_agency_sees_only_its_own_complaints(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    agency_token: AgencyTokenFactory,
) -> None:
    mine, other = await make_office(municipality=town()), await make_office(municipality=town())
    made = await register(http, complaints_url, tokens.operator, agency_code=mine)
    url = f"{complaints_url}/complaints/{made['number']}"
    outsider = await agency_token(other)
    for token in (outsider, tokens.agency):
        assert (await http.get(url, headers=bearer(token))).status_code == 404
        listed = await http.get(f"{complaints_url}/complaints", headers=bearer(token))
        assert made["number"] not in [item["number"] for item in listed.json()["items"]]
        refused = await http.post(
            f"{url}/actions", json={"action": "acknowledge"}, headers=bearer(token)
        )
        assert refused.status_code == 404

    insider = await agency_token(mine)
    listed = await http.get(f"{complaints_url}/complaints", headers=bearer(insider))
    assert [item["number"] for item in listed.json()["items"]] == [made["number"]]
    assert listed.json()["items"][0]["text"] is None  # lists carry no personal data
    seen = (await http.get(url, headers=bearer(insider))).json()
    assert seen["phone"] == made["phone"] and seen["personal_data_shown"] is True
    acked = await http.post(
        f"{url}/actions", json={"action": "acknowledge"}, headers=bearer(insider)
    )
    assert acked.json()["status"] == "acknowledged"
    answered = await http.post(
        f"{url}/actions",
        json={"action": "answer", "comment": "Срок восстановлен, документы готовы."},
        headers=bearer(insider),
    )
    assert answered.json()["status"] == "answered"
    closing = await http.post(f"{url}/actions", json={"action": "close"}, headers=bearer(insider))
    assert closing.status_code == 403


async def test_personal_data_reads_are_audited_and_hidden_from_administrators(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    made = await register(
        http, complaints_url, tokens.operator, agency_code=await make_office(municipality=town())
    )
    url = f"{complaints_url}/complaints/{made['number']}"
    operator_view = (await http.get(url, headers=bearer(tokens.supervisor))).json()
    admin_view = (await http.get(url, headers=bearer(tokens.admin))).json()
    assert operator_view["text"].startswith("Нарушен срок")
    assert admin_view["text"] is None and admin_view["phone"] is None
    assert admin_view["personal_data_shown"] is False
    async with transaction(sessions) as session:
        reads = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "complaints.read", AuditEntry.subject_id == made["number"]
                )
            )
        ).all()
    assert sorted(entry.details["personal_data_shown"] for entry in reads) == [False, True]


async def test_the_lifecycle_refuses_wrong_moves(
    http: httpx.AsyncClient, complaints_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    made = await register(
        http, complaints_url, tokens.operator, agency_code=await make_office(municipality=town())
    )
    url = f"{complaints_url}/complaints/{made['number']}/actions"
    no_answer = await http.post(url, json={"action": "answer"}, headers=bearer(tokens.supervisor))
    assert no_answer.status_code == 422
    operator = await http.post(url, json={"action": "close"}, headers=bearer(tokens.operator))
    assert operator.status_code == 403
    closed = await http.post(url, json={"action": "close"}, headers=bearer(tokens.supervisor))
    assert closed.json()["status"] == "closed"
    late = await http.post(
        url, json={"action": "answer", "comment": "Поздно"}, headers=bearer(tokens.supervisor)
    )
    assert late.status_code == 409 and late.json()["state"] == "closed"


async def test_voice_messages_need_their_recording(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    recordings: Path,
) -> None:
    office = await make_office(municipality=town())
    missing = await http.post(
        f"{complaints_url}/complaints",
        json={
            "source": "voicemail",
            "phone": phone(),
            "recording": "nope.wav",
            "agency_code": office,
        },
        headers=bearer(tokens.operator),
    )
    assert missing.status_code == 422 and missing.json()["field"] == "recording"
    escape = await http.post(
        f"{complaints_url}/complaints",
        json={"source": "voicemail", "phone": phone(), "recording": "../jwt-secret"},
        headers=bearer(tokens.operator),
    )
    assert escape.status_code == 422
    name = f"vm-{secrets.token_hex(4)}.wav"
    (recordings / name).write_bytes(b"RIFF0000WAVE")
    made = await register(
        http,
        complaints_url,
        tokens.operator,
        source="voicemail",
        recording=name,
        text="",
        agency_code=office,
    )
    seen = (
        await http.get(
            f"{complaints_url}/complaints/{made['number']}", headers=bearer(tokens.operator)
        )
    ).json()
    assert seen["recording"] == name and seen["text"].startswith("Голосовое сообщение")


async def test_a_repeated_phone_flow_create_returns_the_same_complaint(
    http: httpx.AsyncClient, complaints_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    body = {
        "phone": phone(),
        "text": "Жалоба",
        "agency_code": await make_office(municipality=town()),
    }
    headers = bearer(tokens.operator) | {"Idempotency-Key": secrets.token_hex(8)}
    first = await http.post(f"{complaints_url}/complaints", json=body, headers=headers)
    again = await http.post(f"{complaints_url}/complaints", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["number"] == again.json()["number"]

    # Repeats racing each other also end in one complaint.
    headers["Idempotency-Key"] = secrets.token_hex(8)
    racing = await asyncio.gather(
        *(http.post(f"{complaints_url}/complaints", json=body, headers=headers) for _ in range(4))
    )
    assert sorted(reply.status_code for reply in racing) == [200, 200, 200, 201]
    assert len({reply.json()["number"] for reply in racing}) == 1


async def test_callers_get_only_the_timeline_and_guessing_is_stopped(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    redis_url: str,
) -> None:
    made = await register(
        http, complaints_url, tokens.operator, agency_code=await make_office(municipality=town())
    )
    status_url = f"{complaints_url}/complaints/status"
    # Earlier runs' misses from this address may still count; this test makes its own.
    client = create_redis(redis_url)
    await client.delete("okno:kuzbass:complaints:status-failures:client:127.0.0.1")
    await client.aclose()
    digits = made["phone"][-4:]
    reply = await http.post(status_url, json={"number": made["number"], "phone_last4": digits})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"number", "status", "overdue", "timeline", "spoken"}
    assert [entry["event"] for entry in body["timeline"]] == [
        "registered",
        "forwarded",
        "delivered",
    ]
    assert all(set(entry) == {"event", "at"} for entry in body["timeline"])

    wrong = f"{(int(digits) + 1) % 10000:04d}"
    stranger = str(10**8 + secrets.randbelow(9 * 10**8))
    unknown = await http.post(status_url, json={"number": stranger, "phone_last4": digits})
    assert unknown.status_code == 404
    for _ in range(5):
        miss = await http.post(status_url, json={"number": made["number"], "phone_last4": wrong})
        assert miss.status_code == 404
        assert miss.json()["detail"] == unknown.json()["detail"]
    locked = await http.post(status_url, json={"number": made["number"], "phone_last4": digits})
    assert locked.status_code == 429


async def test_the_voice_menus_account_is_not_limited_by_its_address(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    redis_url: str,
) -> None:
    made = await register(
        http, complaints_url, tokens.operator, agency_code=await make_office(municipality=town())
    )
    body = {"number": made["number"], "phone_last4": made["phone"][-4:]}
    key = "okno:kuzbass:complaints:status-failures:client:127.0.0.1"
    client = create_redis(redis_url)
    try:
        await client.set(key, 50, ex=60)  # this address has used up its misses
        status_url = f"{complaints_url}/complaints/status"
        assert (await http.post(status_url, json=body)).status_code == 429
        trusted = await http.post(status_url, json=body, headers=bearer(tokens.operator))
        assert trusted.status_code == 200 and trusted.json()["number"] == made["number"]
        forged = await http.post(status_url, json=body, headers=bearer("not-a-token"))
        assert forged.status_code == 401
    finally:
        await client.delete(key)
        await client.aclose()


async def test_missed_deadlines_are_recorded_once_with_an_injected_clock(
    sessions: async_sessionmaker[AsyncSession], make_office: OfficeFactory, make_user: UserFactory
) -> None:
    # A registration time long past, so no other test's complaint is due by the clock used.
    registered = dt.datetime(2001, 3, 1, 9, tzinfo=dt.UTC) + dt.timedelta(
        minutes=secrets.randbelow(10_000)
    )
    office = await make_office(municipality=town())
    username = await make_user(Role.OPERATOR)
    async with transaction(sessions) as session:
        user = await session.scalar(select(User).where(User.username == username))
        assert user is not None
        made, _ = await service.register(
            session,
            ComplaintIn(phone=phone(), text="Не ответили", agency_code=office),
            user=user,
            now=registered,
            config=ComplaintSettings(complaint_ack_hours=24, complaint_answer_days=30),
            recordings=Path("/nonexistent"),
            idempotency_key=None,
        )

    async def sweep(at: dt.datetime) -> int:
        async with transaction(sessions) as session:
            return await service.mark_overdue(session, now=at)

    assert await sweep(registered + dt.timedelta(hours=23)) == 0
    assert await sweep(registered + dt.timedelta(hours=25)) == 1
    assert await sweep(registered + dt.timedelta(hours=26)) == 0
    assert await sweep(registered + dt.timedelta(days=31)) == 1
    async with transaction(sessions) as session:
        complaint = await repository.by_number(session, made.number)
        assert complaint is not None
        timeline = await repository.timeline(session, complaint.id)
    assert [(e.event, e.note) for e in timeline if e.event == "overdue"] == [
        ("overdue", "acknowledgement"),
        ("overdue", "answer"),
    ]


async def test_delivery_preferences_are_for_administrators_and_show_the_secret_once(
    http: httpx.AsyncClient, complaints_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office(municipality=town())
    url = f"{complaints_url}/complaints/channels/{office}"
    body = {"channel": "webhook", "webhook_url": "http://127.0.0.1:9/hook"}
    refused = await http.put(url, json=body, headers=bearer(tokens.supervisor))
    assert refused.status_code == 403
    first = (await http.put(url, json=body, headers=bearer(tokens.admin))).json()
    assert first["has_secret"] and len(first["secret"]) >= 40
    again = (await http.put(url, json=body, headers=bearer(tokens.admin))).json()
    assert again["secret"] is None
    shown = (await http.get(url, headers=bearer(tokens.admin))).json()
    assert shown["secret"] is None and shown["has_secret"] is True
    incomplete = await http.put(url, json={"channel": "email"}, headers=bearer(tokens.admin))
    assert incomplete.status_code == 422
