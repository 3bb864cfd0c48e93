"""Fixtures of the knowledge tests: the service on loopback with the sample content imported,
and bearer headers for each role."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.auth.models import Role
from services.common.db import create_engine, session_factory, transaction
from services.knowledge.demo_seed import seed_knowledge
from tests.conftest import PASSWORD, ServiceStarter, TokenFactory, UserFactory

Headers = dict[str, str]


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
async def knowledge_seeded(database_url: str, seeded: None) -> None:
    """The sample catalogue, FAQ, scripts and synonyms, imported once per run."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with transaction(session_factory(engine)) as session:
            await seed_knowledge(session)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def knowledge_url(service_url: ServiceStarter, knowledge_seeded: None) -> str:
    return await service_url("knowledge")


@dataclass(frozen=True)
class Staff:
    operator: Headers
    supervisor: Headers
    admin: Headers
    agency: Headers
    """An agency user of mfc-kem-sovetsky."""
    other_agency: Headers
    """An agency user of uszn-kem-central."""


@pytest.fixture(scope="session")
async def staff(token_for: TokenFactory, make_user: UserFactory, auth_url: str) -> Staff:
    username = await make_user(Role.AGENCY, "uszn-kem-central")
    async with httpx.AsyncClient() as client:
        reply = await client.post(
            f"{auth_url}/auth/login", json={"username": username, "password": PASSWORD}
        )
    reply.raise_for_status()
    return Staff(
        operator=bearer(await token_for(Role.OPERATOR)),
        supervisor=bearer(await token_for(Role.SUPERVISOR)),
        admin=bearer(await token_for(Role.ADMINISTRATOR)),
        agency=bearer(await token_for(Role.AGENCY)),
        other_agency=bearer(reply.json()["access_token"]),
    )


def unique_code(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def catalogue_body(code: str, **changes: Any) -> dict[str, Any]:
    """A valid catalogue entry of a test-only service."""
    body: dict[str, Any] = {
        "code": code,
        "name": "Тестовая услуга выдачи справок",
        "topic": "mfc",
        "description": "Выдача тестовой справки для проверки каталога.",
        "applicants": "Граждане РФ.",
        "terms": "5 рабочих дней.",
        "documents": ["Паспорт", "Заявление"],
        "fee": "Бесплатно.",
        "result": "Справка.",
        "responsible_agency": "МФЦ Кемерово",
        "responsible_agency_code": "mfc-kem-sovetsky",
        "officials": "",
        "appeal": "Жалоба руководителю МФЦ.",
    }
    body.update(changes)
    return body


def faq_body(marker: str, **changes: Any) -> dict[str, Any]:
    """A valid FAQ entry whose text is a unique marker word among words no search-quality
    query uses, so tests that publish entries never disturb the fixed query set."""
    body: dict[str, Any] = {
        "topic": "mfc",
        "question": f"Тестовый вопрос {marker}?",
        "answer": f"Тестовый ответ {marker}, подробный.",
        "spoken": f"Ответ {marker}.",
    }
    body.update(changes)
    return body


def marker_word() -> str:
    """A made-up Latin word the Russian stemmer leaves alone: unique per test."""
    return "zq" + secrets.token_hex(4).translate(str.maketrans("0123456789", "ghijklmnop"))
