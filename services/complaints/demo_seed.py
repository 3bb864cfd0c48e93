"""Demo complaints: a few invented ones in the Kemerovo MFC office's inbox, one of them past its
acknowledgement deadline, so the agency and supervisor views are not empty. Registered by the
demo operator `operator1`; nothing is added once that account has registered any."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import User
from services.complaints import service
from services.complaints.config import ComplaintSettings
from services.complaints.models import Complaint
from services.complaints.schemas import ComplaintIn

_OFFICE = "mfc-kem-sovetsky"
_AUTHOR = "operator1"
#: (hours ago, phone, text) — invented sample data.
_SAMPLES = (
    (
        30,
        "+79230000101",
        "Третий раз не могу получить готовый паспорт: в окне выдачи говорят, "
        "что документы не пришли.",
    ),
    (5, "+79230000102", "Сотрудник отказался принять заявление на СНИЛС без объяснения причин."),
    (1, "+79230000103", "Электронная очередь не работает с утра, люди ждут больше двух часов."),
)


async def seed_complaints(session: AsyncSession) -> None:
    """Register the sample complaints once (after the demo staff exist)."""
    author = await session.scalar(select(User).where(User.username == _AUTHOR))
    if author is None:
        return
    if await session.scalar(
        select(Complaint.id).where(Complaint.created_by_id == author.id).limit(1)
    ):
        return
    now = dt.datetime.now(dt.UTC)
    for hours, phone, text in _SAMPLES:
        await service.register(
            session,
            ComplaintIn(phone=phone, text=text, agency_code=_OFFICE, citizen_name="Демо Заявитель"),
            user=author,
            now=now - dt.timedelta(hours=hours),
            config=ComplaintSettings(),
            recordings=Path("."),
            idempotency_key=None,
        )
    await service.mark_overdue(session, now=now)
