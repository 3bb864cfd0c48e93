"""The demo schedules: seeded once, bookable through the API like any other office."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.demo_seed import seed_appointments
from services.common.db import transaction
from tests.appointments.conftest import Tokens, bearer

pytestmark = pytest.mark.integration


async def test_demo_schedules_are_seeded_once(
    http: httpx.AsyncClient,
    appointments_url: str,
    tokens: Tokens,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(2):
        async with transaction(sessions) as session:
            await seed_appointments(session)
    mfc = await http.get(
        f"{appointments_url}/appointments/offices/mfc-kem-leninsky/schedule",
        headers=bearer(tokens.operator),
    )
    assert mfc.status_code == 200
    assert [r["label"] for r in mfc.json()["resources"]] == ["Окно 1", "Окно 2", "Окно 3"]
    pension = await http.get(
        f"{appointments_url}/appointments/offices/sfr-kem-client/schedule",
        headers=bearer(tokens.operator),
    )
    kinds = [r["kind"] for r in pension.json()["resources"]]
    assert kinds.count("specialist") == 2
    slots = await http.get(
        f"{appointments_url}/appointments/slots",
        params={"office": "sfr-kem-client", "service": "snils", "kind": "consultation"},
        headers=bearer(tokens.operator),
    )
    assert slots.status_code == 200
