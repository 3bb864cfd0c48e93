"""The outside MFC system (fake, over HTTP on loopback): pulled slots, pushed bookings, and its
refusals, errors and time-outs shown to the operator; and the nearest-slots call."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.models import Booking
from services.common.db import transaction
from services.directory.models import Agency
from tests.appointments.conftest import OfficeFactory, Tokens, bearer
from tests.appointments.helpers import book, booking_body, free_slots

pytestmark = pytest.mark.integration


@pytest.fixture
async def mfc(fake_mfc_url: str) -> AsyncIterator[str]:
    """The fake MFC, behaving normally again after each test."""
    yield fake_mfc_url
    async with httpx.AsyncClient() as client:
        await client.post(f"{fake_mfc_url}/control", json={})


async def _control(url: str, **settings: Any) -> None:
    async with httpx.AsyncClient() as client:
        (await client.post(f"{url}/control", json=settings)).raise_for_status()


async def _bookings_at(sessions: async_sessionmaker[AsyncSession], office: str) -> int:
    async with transaction(sessions) as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Booking)
            .join(Agency, Agency.id == Booking.agency_id)
            .where(Agency.code == office)
        )
    return int(count or 0)


async def test_slots_pulled_and_booking_pushed(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    mfc: str,
) -> None:
    office = await make_office(external_url=mfc)
    slots = await free_slots(http, appointments_url, tokens.operator, office)
    assert slots and all(s["free"] >= 1 for s in slots)
    reply = await book(
        http, appointments_url, tokens.operator, booking_body(office, slots[0]["starts_at"])
    )
    assert reply.status_code == 201, reply.text
    outside = (await http.get(f"{mfc}/bookings")).json()
    assert reply.json()["code"] in {b["reference"] for b in outside.values()}
    cancelled = await http.post(
        f"{appointments_url}/appointments/bookings/{reply.json()['id']}/cancel",
        headers=bearer(tokens.operator),
    )
    assert cancelled.status_code == 200
    after = (await http.get(f"{mfc}/bookings")).json()
    assert reply.json()["code"] not in {b["reference"] for b in after.values()}


@pytest.mark.parametrize(
    ("control", "status", "error_id", "words"),
    [
        ({"refuse": "гражданин уже записан"}, 409, "mfc-refused", "гражданин уже записан"),
        ({"fail_status": 503}, 502, "mfc-unavailable", "недоступна"),
        ({"delay_seconds": 3.5}, 504, "mfc-timeout", "не ответила вовремя"),
    ],
)
async def test_outside_failures_book_nothing_and_tell_the_operator(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
    mfc: str,
    control: dict[str, Any],
    status: int,
    error_id: str,
    words: str,
) -> None:
    office = await make_office(external_url=mfc)
    slot = (await free_slots(http, appointments_url, tokens.operator, office))[0]
    await _control(mfc, **control)
    reply = await book(
        http, appointments_url, tokens.operator, booking_body(office, slot["starts_at"])
    )
    assert reply.status_code == status, reply.text
    assert reply.json()["error_id"] == error_id
    assert words in reply.json()["detail"]
    assert await _bookings_at(sessions, office) == 0


async def test_unreachable_system(
    http: httpx.AsyncClient, appointments_url: str, tokens: Tokens, make_office: OfficeFactory
) -> None:
    office = await make_office(external_url="http://127.0.0.1:9")
    reply = await http.get(
        f"{appointments_url}/appointments/slots",
        params={"office": office, "service": "snils"},
        headers=bearer(tokens.operator),
    )
    assert reply.status_code == 502 and reply.json()["error_id"] == "mfc-unavailable"


async def test_nearest_three_across_a_municipality(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    mfc: str,
) -> None:
    town = f"Посёлок {secrets.token_hex(4)}"
    local_a = await make_office(municipality=town, windows=1)
    local_b = await make_office(municipality=town, windows=1)
    outside = await make_office(municipality=town, external_url=mfc)
    url = f"{appointments_url}/appointments/nearest"
    params = {"service": "snils", "municipality": town.upper()}
    reply = await http.get(url, params=params, headers=bearer(tokens.operator))
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert len(found["slots"]) == 3 and found["unavailable"] == []
    starts = [s["starts_at"] for s in found["slots"]]
    assert starts == sorted(starts)
    assert {s["office"] for s in found["slots"]} <= {local_a, local_b, outside}

    await _control(mfc, fail_status=500)
    degraded = (await http.get(url, params=params, headers=bearer(tokens.operator))).json()
    assert len(degraded["slots"]) == 3
    assert {s["office"] for s in degraded["slots"]} <= {local_a, local_b}
    assert len(degraded["unavailable"]) == 1 and "недоступна" in degraded["unavailable"][0]
