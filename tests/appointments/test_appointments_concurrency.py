"""No double booking and no lost booking under concurrency, over real HTTP and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.models import Booking, Seat
from services.common.db import transaction
from services.directory.models import Agency
from tests.appointments.conftest import OfficeFactory, Tokens, bearer
from tests.appointments.helpers import book, booking_body, free_slots

pytestmark = pytest.mark.integration


async def _office_state(
    sessions: async_sessionmaker[AsyncSession], office: str
) -> tuple[list[Booking], int]:
    async with transaction(sessions) as session:
        agency_id = await session.scalar(select(Agency.id).where(Agency.code == office))
        bookings = list(
            await session.scalars(
                select(Booking).where(Booking.agency_id == agency_id, Booking.status == "booked")
            )
        )
        seats = await session.scalar(
            select(func.count())
            .select_from(Seat)
            .where(Seat.booking_id.in_([b.id for b in bookings] or [0]))
        )
    return bookings, int(seats or 0)


async def test_200_concurrent_requests_for_a_slot_with_3_windows(
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = await make_office(windows=3)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        slot = (await free_slots(client, appointments_url, tokens.operator, office))[0]
        body = booking_body(office, slot["starts_at"])
        replies = await asyncio.gather(
            *(book(client, appointments_url, tokens.operator, body) for _ in range(200))
        )
    statuses = Counter(reply.status_code for reply in replies)
    assert statuses == {201: 3, 409: 197}, statuses
    refusals = {reply.json()["error_id"] for reply in replies if reply.status_code == 409}
    assert refusals == {"slot-taken"}
    assert all("занято" in r.json()["detail"] for r in replies if r.status_code == 409)
    won = {reply.json()["id"] for reply in replies if reply.status_code == 201}
    windows = {reply.json()["resource"] for reply in replies if reply.status_code == 201}
    assert windows == {"Окно 1", "Окно 2", "Окно 3"}
    bookings, seats = await _office_state(sessions, office)
    assert {b.id for b in bookings} == won and seats == 3
    assert len({b.code for b in bookings}) == 3


async def test_longer_visits_never_overlap_on_a_window(
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """30-minute visits take two cells; races across adjacent starts must not share a cell."""
    office = await make_office(windows=1)
    async with httpx.AsyncClient(timeout=60) as client:
        slots = await free_slots(
            client, appointments_url, tokens.operator, office, service="passport-rf"
        )
        starts = [s["starts_at"] for s in slots[:4]]  # 09:00, 09:15, 09:30, 09:45
        replies = await asyncio.gather(
            *(
                book(
                    client,
                    appointments_url,
                    tokens.operator,
                    booking_body(office, start, service="passport-rf"),
                )
                for start in starts * 5
            )
        )
    assert {r.status_code for r in replies} <= {201, 409}
    bookings, seats = await _office_state(sessions, office)
    assert len(bookings) == 2 and seats == 4  # every maximal packing of 4 starts holds two
    spans = sorted((b.starts_at, b.ends_at) for b in bookings)
    for (_s1, e1), (s2, _e2) in zip(spans, spans[1:], strict=False):
        assert e1 <= s2


async def test_reschedule_race_for_the_last_window(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = await make_office(windows=1)
    slots = await free_slots(http, appointments_url, tokens.operator, office)
    first = (
        await book(
            http, appointments_url, tokens.operator, booking_body(office, slots[0]["starts_at"])
        )
    ).json()
    second = (
        await book(
            http, appointments_url, tokens.operator, booking_body(office, slots[1]["starts_at"])
        )
    ).json()
    target = slots[2]["starts_at"]
    replies = await asyncio.gather(
        *(
            http.post(
                f"{appointments_url}/appointments/bookings/{b['id']}/reschedule",
                json={"starts_at": target},
                headers=bearer(tokens.operator),
            )
            for b in (first, second)
        )
    )
    assert sorted(r.status_code for r in replies) == [200, 409]
    loser = replies[0] if replies[0].status_code == 409 else replies[1]
    assert loser.json()["error_id"] == "slot-taken"
    bookings, seats = await _office_state(sessions, office)
    assert seats == 2
    times = sorted(b.starts_at for b in bookings)
    assert dt.datetime.fromisoformat(target) in times
    # The loser kept its old time: one of the original two slots is still held.
    originals = {
        dt.datetime.fromisoformat(slots[0]["starts_at"]),
        dt.datetime.fromisoformat(slots[1]["starts_at"]),
    }
    assert len(originals & set(times)) == 1


async def test_concurrent_reschedules_of_one_booking_leave_one_place(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    office = await make_office(windows=1)
    slots = await free_slots(http, appointments_url, tokens.operator, office)
    made = (
        await book(
            http, appointments_url, tokens.operator, booking_body(office, slots[0]["starts_at"])
        )
    ).json()
    replies = await asyncio.gather(
        *(
            http.post(
                f"{appointments_url}/appointments/bookings/{made['id']}/reschedule",
                json={"starts_at": slot["starts_at"]},
                headers=bearer(tokens.operator),
            )
            for slot in slots[1:6]
        )
    )
    assert {r.status_code for r in replies} == {200}
    bookings, seats = await _office_state(sessions, office)
    assert len(bookings) == 1 and seats == 1
    remaining = await free_slots(http, appointments_url, tokens.operator, office)
    taken = {s["starts_at"] for s in slots[:8]} - {s["starts_at"] for s in remaining}
    assert len(taken) == 1
