"""Fixtures of the complaints tests: offices with delivery preferences, and the agencies'
systems as real servers on loopback (a webhook receiver that dedups, aiosmtpd)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.notify import NotifySettings
from services.auth.models import Role
from services.common.db import create_engine, session_factory, transaction
from services.common.settings import Settings
from services.complaints.channels import HttpWebhookSender, SmtpSender
from services.complaints.config import ComplaintSettings
from services.complaints.worker import Delivery
from services.directory import service as directory
from services.directory.schemas import AgencyIn
from tests.conftest import PASSWORD, ServiceStarter, TokenFactory, UserFactory
from tests.support.mail import MailInbox
from tests.support.servers import serve_app


@pytest.fixture(scope="session")
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(database_url, pool_size=4)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
async def complaints_url(service_url: ServiceStarter) -> str:
    return await service_url("complaints")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tokens:
    operator: str
    supervisor: str
    admin: str
    agency: str  # a user of mfc-kem-sovetsky


@pytest.fixture(scope="session")
async def tokens(token_for: TokenFactory) -> Tokens:
    return Tokens(
        await token_for(Role.OPERATOR),
        await token_for(Role.SUPERVISOR),
        await token_for(Role.ADMINISTRATOR),
        await token_for(Role.AGENCY),
    )


AgencyTokenFactory = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
async def agency_token(make_user: UserFactory, auth_url: str) -> AgencyTokenFactory:
    """The token of a fresh user of the given office."""

    async def login(code: str) -> str:
        username = await make_user(Role.AGENCY, code)
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"{auth_url}/auth/login", json={"username": username, "password": PASSWORD}
            )
        reply.raise_for_status()
        return str(reply.json()["access_token"])

    return login


OfficeFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
async def make_office(sessions: async_sessionmaker[AsyncSession], seeded: None) -> OfficeFactory:
    """A new office (its own code) providing SNILS in the given municipality."""

    async def make(*, municipality: str, kind: str = "pension_fund") -> str:
        code = f"cmp-{secrets.token_hex(5)}"
        async with transaction(sessions) as session:
            await directory.save_agency(
                session,
                AgencyIn(
                    code=code,
                    name=f"Тестовое ведомство {code}",
                    kind=kind,  # type: ignore[arg-type]
                    municipality=municipality,
                    address="Кемерово, ул. Тестовая, 2",
                    services=["snils"],
                ),
            )
        return code

    return make


@dataclass
class Hook:
    """One agency's webhook endpoint: answers by `plan` (then "ok"), checks signatures, and
    keeps each idempotency key once, as a well-behaved receiver must."""

    secret: str = ""
    plan: list[str] = field(default_factory=list)
    attempts: int = 0
    bad_signatures: int = 0
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event | None = None


@dataclass
class Receiver:
    url: str
    hooks: dict[str, Hook]

    def hook(self, **options: Any) -> tuple[str, Hook]:
        name = secrets.token_hex(6)
        self.hooks[name] = Hook(**options)
        return f"{self.url}/hooks/{name}", self.hooks[name]


def _signature_ok(secret: str, request_headers: Any, body: bytes) -> bool:
    """Checked independently of the code under test, from the documented scheme."""
    import hashlib
    import hmac

    stamp = request_headers.get("x-okno-timestamp", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(
        "v1=" + expected.hexdigest(), request_headers.get("x-okno-signature", "")
    )


@pytest.fixture(scope="session")
async def receiver() -> AsyncIterator[Receiver]:
    hooks: dict[str, Hook] = {}
    app = FastAPI()

    @app.post("/hooks/{name}")
    async def take(name: str, request: Request) -> Response:
        hook = hooks.get(name)
        if hook is None:
            return Response(status_code=404)
        body = await request.body()
        hook.attempts += 1
        step = hook.plan.pop(0) if hook.plan else "ok"
        if not _signature_ok(hook.secret, request.headers, body):
            hook.bad_signatures += 1
            return Response(status_code=401)
        if step == "fail":
            return Response(status_code=503)
        key = request.headers["idempotency-key"]
        hook.accepted.setdefault(key, json.loads(body))
        hook.arrived.set()
        if step == "timeout":
            await asyncio.sleep(1.5)
        if step == "hang" and hook.release is not None:
            await hook.release.wait()
        return Response(status_code=200)

    async with serve_app(app) as url:
        yield Receiver(url, hooks)


@pytest.fixture(scope="session")
def recordings(settings: Settings) -> Path:
    """The recordings folder the service uses by default (<data_dir>/recordings)."""
    folder = settings.data_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


DeliveryFactory = Callable[..., Delivery]


@pytest.fixture
async def make_delivery(
    sessions: async_sessionmaker[AsyncSession],
    smtp_server: tuple[int, MailInbox],
    recordings: Path,
) -> AsyncIterator[DeliveryFactory]:
    """A worker's delivery set-up with quick retries and a short webhook timeout."""
    client = httpx.AsyncClient(timeout=0.5)
    port, _inbox = smtp_server

    def make(**options: Any) -> Delivery:
        config = ComplaintSettings(
            delivery_backoff_base=0.01,
            delivery_backoff_cap=0.05,
            delivery_lease_seconds=30,
            delivery_timeout=0.5,
            delivery_max_attempts=options.pop("max_attempts", 8),
        )
        return Delivery(
            sessions=sessions,
            config=config,
            recordings=recordings,
            webhook=HttpWebhookSender(client),
            mail=SmtpSender(NotifySettings(smtp_host="127.0.0.1", smtp_port=port)),
            **options,
        )

    yield make
    await client.aclose()
