"""The demo complaints: seeded once into the Kemerovo MFC office's inbox, one overdue."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.auth import service as accounts
from services.auth.models import Role, User
from services.common.db import transaction
from services.complaints.demo_seed import seed_complaints
from services.complaints.models import Complaint
from services.directory.models import Agency
from tests.conftest import PASSWORD

pytestmark = pytest.mark.integration


async def test_demo_complaints_are_seeded_once(
    sessions: async_sessionmaker[AsyncSession], seeded: None
) -> None:
    async with transaction(sessions) as session:
        if await session.scalar(select(User).where(User.username == "operator1")) is None:
            await accounts.create_user(
                session,
                username="operator1",
                full_name="Иванова Анна Сергеевна",
                role=Role.OPERATOR,
                password=PASSWORD,
                agency_code=None,
                actor="test",
                actor_id=None,
            )
    for _ in range(2):
        async with transaction(sessions) as session:
            await seed_complaints(session)
    async with transaction(sessions) as session:
        rows = (
            await session.execute(
                select(Complaint, Agency.code)
                .join(Agency, Agency.id == Complaint.agency_id)
                .join(User, User.id == Complaint.created_by_id)
                .where(User.username == "operator1")
            )
        ).all()
    assert len(rows) == 3
    assert {code for _, code in rows} == {"mfc-kem-sovetsky"}
    assert [c.ack_overdue for c, _ in rows].count(True) == 1
    assert {c.status for c, _ in rows} == {"delivered"}
