"""Booking over real HTTP against real PostgreSQL: schedules, book, code, cancel, roles, data."""

from __future__ import annotations

import datetime as dt
import secrets

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.followup import FollowUp, publish_followups
from services.appointments.models import Booking, Seat
from services.common.audit import AuditEntry
from services.common.db import transaction
from tests.appointments.conftest import OfficeFactory, Tokens, bearer
from tests.appointments.helpers import book, booking_body, free_slots

pytestmark = pytest.mark.integration

CITIZEN = {"name": "Сидоров Пётр", "phone": "+7 913 000-11-22", "email": "petr@example.org"}


async def test_admin_sets_schedule_and_others_may_not(
    http: httpx.AsyncClient, appointments_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office(windows=1)
    body = {
        "slot_minutes": 15,
        "windows": 2,
        "durations": {"snils": 15},
        "specialists": ["Юрист Орлова"],
        "exceptions": [{"day": "2027-01-09", "opens": "10:00", "closes": "12:00"}],
    }
    url = f"{appointments_url}/appointments/offices/{office}/schedule"
    denied = await http.put(url, json=body, headers=bearer(tokens.operator))
    assert denied.status_code == 403
    saved = await http.put(url, json=body, headers=bearer(tokens.admin))
    assert saved.status_code == 200, saved.text
    schedule = (await http.get(url, headers=bearer(tokens.operator))).json()
    assert [(r["kind"], r["label"]) for r in schedule["resources"]] == [
        ("window", "Окно 1"),
        ("window", "Окно 2"),
        ("specialist", "Юрист Орлова"),
    ]
    assert schedule["durations"] == {"snils": 15}
    assert schedule["exceptions"][0]["opens"] == "10:00:00"
    unknown = await http.put(
        url, json={**body, "durations": {"no-such-service": 15}}, headers=bearer(tokens.admin)
    )
    assert unknown.status_code == 422


async def test_book_code_lookup_cancel_frees_the_slot(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = await make_office(windows=2)
    slot = (await free_slots(http, appointments_url, tokens.operator, office))[0]
    assert slot["free"] == 2
    reply = await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(office, slot["starts_at"], citizen=CITIZEN, consent=True),
    )
    assert reply.status_code == 201, reply.text
    booking = reply.json()
    assert len(booking["code"]) == 6 and booking["code"].isdigit()
    assert booking["citizen"]["phone"] == CITIZEN["phone"]
    assert booking["citizen"]["consent_at"] is not None
    assert " ".join(booking["code"]) in booking["message"]
    assert booking["resource"] == "Окно 1"
    after = await free_slots(http, appointments_url, tokens.operator, office)
    assert after[0]["starts_at"] == slot["starts_at"] and after[0]["free"] == 1

    found = await http.get(
        f"{appointments_url}/appointments/codes/{booking['code']}", headers=bearer(tokens.operator)
    )
    assert found.json()["id"] == booking["id"]
    cancelled = await http.post(
        f"{appointments_url}/appointments/bookings/{booking['id']}/cancel",
        headers=bearer(tokens.operator),
    )
    assert cancelled.json()["status"] == "cancelled"
    again = await http.post(
        f"{appointments_url}/appointments/bookings/{booking['id']}/cancel",
        headers=bearer(tokens.operator),
    )
    assert again.status_code == 409 and again.json()["error_id"] == "booking-closed"
    gone = await http.get(
        f"{appointments_url}/appointments/codes/{booking['code']}", headers=bearer(tokens.operator)
    )
    assert gone.status_code == 404
    assert (await free_slots(http, appointments_url, tokens.operator, office))[0]["free"] == 2
    async with transaction(sessions) as session:
        actions = set(
            await session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.subject_type == "appointment",
                    AuditEntry.subject_id == str(booking["id"]),
                )
            )
        )
    assert {
        "appointments.booking.create",
        "appointments.booking.read",
        "appointments.booking.cancel",
    } <= actions


async def test_personal_data_needs_consent_and_is_hidden_from_administrators(
    http: httpx.AsyncClient, appointments_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office()
    slot = (await free_slots(http, appointments_url, tokens.operator, office))[0]
    refused = await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(office, slot["starts_at"], citizen=CITIZEN),
    )
    assert refused.status_code == 422
    made = await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(office, slot["starts_at"], citizen=CITIZEN, consent=True),
    )
    seen_by_admin = await http.get(
        f"{appointments_url}/appointments/bookings/{made.json()['id']}",
        headers=bearer(tokens.admin),
    )
    assert seen_by_admin.status_code == 200 and seen_by_admin.json()["citizen"] is None
    other_office = await http.get(
        f"{appointments_url}/appointments/bookings/{made.json()['id']}",
        headers=bearer(tokens.agency),
    )
    assert other_office.status_code == 403


async def test_wrong_times_are_not_bookable(
    http: httpx.AsyncClient, appointments_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office()
    slot = (await free_slots(http, appointments_url, tokens.operator, office))[0]
    start = dt.datetime.fromisoformat(slot["starts_at"])
    for wrong in (start + dt.timedelta(minutes=7), start - dt.timedelta(days=3)):
        reply = await book(
            http, appointments_url, tokens.operator, booking_body(office, wrong.isoformat())
        )
        assert reply.status_code == 422, reply.text
        assert reply.json()["error_id"] == "not-a-slot"
    no_service = await book(
        http,
        appointments_url,
        tokens.operator,
        booking_body(office, slot["starts_at"], service="no-such-service"),
    )
    assert no_service.status_code == 422


async def test_idempotency_key_returns_the_same_booking(
    http: httpx.AsyncClient, appointments_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office()
    slot = (await free_slots(http, appointments_url, tokens.operator, office))[0]
    key = secrets.token_hex(8)
    body = booking_body(office, slot["starts_at"], channel="ivr")
    first = await book(http, appointments_url, tokens.operator, body, **{"Idempotency-Key": key})
    second = await book(http, appointments_url, tokens.operator, body, **{"Idempotency-Key": key})
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert (await free_slots(http, appointments_url, tokens.operator, office))[0]["free"] == 2


async def test_consultation_with_a_specialist_by_phone(
    http: httpx.AsyncClient, appointments_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office(specialists=["Консультант Белова"])
    slots = await free_slots(
        http, appointments_url, tokens.operator, office, service="passport-rf", kind="consultation"
    )
    assert slots[0]["free"] == 1
    body = booking_body(
        office, slots[0]["starts_at"], service="passport-rf", kind="consultation", form="phone"
    )
    first = await book(http, appointments_url, tokens.operator, body)
    assert first.status_code == 201, first.text
    assert first.json()["resource"] == "Консультант Белова" and first.json()["form"] == "phone"
    taken = await book(http, appointments_url, tokens.operator, body)
    assert taken.status_code == 409 and taken.json()["error_id"] == "slot-taken"
    wrong = await book(http, appointments_url, tokens.operator, {**body, "kind": "appointment"})
    assert wrong.status_code == 422  # a phone form is only for consultations


async def test_office_day_attendance_and_follow_up_once(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = "mfc-kem-sovetsky"  # the agency token's own office
    put = await http.put(
        f"{appointments_url}/appointments/offices/{office}/schedule",
        json={"windows": 2, "durations": {"snils": 15}},
        headers=bearer(tokens.admin),
    )
    assert put.status_code == 200, put.text
    slot = (await free_slots(http, appointments_url, tokens.operator, office))[0]
    made = (
        await book(
            http,
            appointments_url,
            tokens.operator,
            booking_body(office, slot["starts_at"], citizen={"name": "Иванов"}, consent=True),
        )
    ).json()
    early = await http.post(
        f"{appointments_url}/appointments/bookings/{made['id']}/attendance",
        json={"attended": True},
        headers=bearer(tokens.agency),
    )
    assert early.status_code == 409
    day = dt.date.fromisoformat(slot["starts_at"][:10])
    listed = await http.get(
        f"{appointments_url}/appointments/offices/{office}/day",
        params={"day": day.isoformat()},
        headers=bearer(tokens.agency),
    )
    assert made["id"] in {b["id"] for b in listed.json()}
    assert {b["citizen"]["name"] for b in listed.json() if b["id"] == made["id"]} == {"Иванов"}
    moved_to_past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    async with transaction(sessions) as session:
        await session.execute(
            update(Booking)
            .where(Booking.id == made["id"])
            .values(starts_at=moved_to_past, ends_at=moved_to_past + dt.timedelta(minutes=15))
        )
    marked = await http.post(
        f"{appointments_url}/appointments/bookings/{made['id']}/attendance",
        json={"attended": True},
        headers=bearer(tokens.agency),
    )
    assert marked.status_code == 200 and marked.json()["status"] == "attended"

    published: list[FollowUp] = []

    class Sink:
        async def publish(self, followup: FollowUp) -> None:
            published.append(followup)

    now = dt.datetime.now(dt.UTC)
    await publish_followups(sessions, now=now, sink=Sink())
    await publish_followups(sessions, now=now + dt.timedelta(minutes=1), sink=Sink())
    mine = [f for f in published if f.booking_id == made["id"]]
    assert len(mine) == 1 and mine[0].has_consent
    async with transaction(sessions) as session:
        seats = await session.scalar(
            select(func.count()).select_from(Seat).where(Seat.booking_id == made["id"])
        )
    assert seats == 1
