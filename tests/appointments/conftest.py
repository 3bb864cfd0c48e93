"""Fixtures of the appointments tests: offices with schedules, and the outside systems as real
servers on loopback (fake MFC, fake SMS gateway, aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments import schedule
from services.appointments.fake_mfc import create_fake_mfc
from services.appointments.schemas import ScheduleIn
from services.auth.models import Role
from services.common.db import create_engine, session_factory, transaction
from services.common.settings import Settings
from services.directory import service as directory
from services.directory.schemas import AgencyIn, Interval
from tests.conftest import ServiceStarter, TokenFactory
from tests.support.servers import serve_app

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=4)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def appointments_url(service_url: ServiceStarter) -> str:
    return await service_url("appointments")


@dataclass
class Tokens:
    admin: str
    operator: str
    agency: str


@pytest.fixture(scope="session")
async def tokens(token_for: TokenFactory) -> Tokens:
    return Tokens(
        await token_for(Role.ADMINISTRATOR),
        await token_for(Role.OPERATOR),
        await token_for(Role.AGENCY),
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


OfficeFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
async def make_office(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, seeded: None
) -> OfficeFactory:
    """An office open every day 09:00-18:00 with a 13:00-14:00 break, taking bookings."""

    async def make(
        *,
        windows: int = 3,
        durations: dict[str, int] | None = None,
        specialists: list[str] | None = None,
        external_url: str | None = None,
        municipality: str | None = None,
        slot_minutes: int = 15,
    ) -> str:
        code = f"appt-{secrets.token_hex(5)}"
        hours = {
            day: [
                Interval(
                    open=dt.time(9),
                    close=dt.time(18),
                    break_start=dt.time(13),
                    break_end=dt.time(14),
                )
            ]
            for day in WEEK
        }
        async with transaction(sessions) as session:
            await directory.save_agency(
                session,
                AgencyIn(
                    code=code,
                    name=f"МФЦ тестовый {code}",
                    kind="mfc",
                    municipality=municipality or f"Город {code}",
                    address="Кемерово, ул. Тестовая, 1",
                    hours=hours,
                    services=["passport-rf", "snils"],
                ),
            )
            await schedule.save_schedule(
                session,
                office_code=code,
                data=ScheduleIn(
                    slot_minutes=slot_minutes,
                    windows=windows,
                    durations=durations or {"passport-rf": 30, "snils": 15},
                    specialists=specialists or [],
                    external_url=external_url,
                ),
                now=dt.datetime.now(settings.tz),
            )
        return code

    return make


@pytest.fixture(scope="session")
async def fake_mfc_url() -> AsyncIterator[str]:
    async with serve_app(create_fake_mfc(capacity=2)) as url:
        yield url


@dataclass
class SmsOutbox:
    messages: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False


@pytest.fixture(scope="session")
async def sms_gateway() -> AsyncIterator[tuple[str, SmsOutbox]]:
    """A fake SMS gateway: records what it is asked to send, or fails when told to."""
    outbox = SmsOutbox()
    app = FastAPI()

    @app.post("/messages", status_code=202, response_model=None)
    async def send(body: dict[str, Any]) -> dict[str, str] | JSONResponse:
        if outbox.fail:
            return JSONResponse({"error": "gateway down"}, status_code=503)
        outbox.messages.append(body)
        return {"status": "queued"}

    async with serve_app(app) as url:
        yield url, outbox
