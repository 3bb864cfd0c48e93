"""Fixtures of the foundation tests: settings, the two services on loopback, staff tokens."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.apps import build_app
from services.auth import service as accounts
from services.auth.models import Role
from services.common.db import create_engine, session_factory, transaction
from services.common.settings import Settings
from services.demo_seed import DEMO_DIR
from services.directory import service as directory
from services.directory.importer import parse_json
from tests.support.servers import serve_app

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=Path(tmp_path_factory.mktemp("okno-data")),
        jwt_secret=SecretStr(secrets.token_urlsafe(40)),
        login_max_failures=3,
        login_lockout_seconds=600,
    )


@pytest.fixture(scope="session")
async def seeded(database_url: str) -> None:
    """The sample directory, imported once per run (tests that write use their own codes)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        async with transaction(session_factory(engine)) as session:
            data = parse_json((DEMO_DIR / "agencies.json").read_bytes())
            await directory.import_directory(session, data, actor="test", actor_id=None)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
async def auth_url(settings: Settings, seeded: None) -> AsyncIterator[str]:
    app = build_app(
        "auth",
        settings,
        database_url=settings.database_url or "",
        redis_url=settings.redis_url or "",
    )
    async with serve_app(app) as url:
        yield url


@pytest.fixture(scope="session")
async def directory_url(settings: Settings, seeded: None) -> AsyncIterator[str]:
    app = build_app(
        "directory",
        settings,
        database_url=settings.database_url or "",
        redis_url=settings.redis_url or "",
    )
    async with serve_app(app) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


UserFactory = Callable[..., Awaitable[str]]


@pytest.fixture(scope="session")
async def make_user(database_url: str) -> AsyncIterator[UserFactory]:
    """Create a staff user with a unique name and return the name (password: PASSWORD)."""
    engine = create_engine(database_url, pool_size=1)

    async def make(role: Role, agency_code: str | None = None) -> str:
        username = f"{role.value}-{secrets.token_hex(4)}"
        async with transaction(session_factory(engine)) as session:
            await accounts.create_user(
                session,
                username=username,
                full_name="Тестовый Пользователь",
                role=role,
                password=PASSWORD,
                agency_code=agency_code,
                actor="test",
                actor_id=None,
            )
        return username

    yield make
    await engine.dispose()


TokenFactory = Callable[[Role], Awaitable[str]]


@pytest.fixture(scope="session")
async def token_for(make_user: UserFactory, auth_url: str) -> TokenFactory:
    """Log a fresh user of a role in over HTTP and return the bearer token."""

    async def login(role: Role) -> str:
        agency = "mfc-kem-sovetsky" if role is Role.AGENCY else None
        username = await make_user(role, agency)
        async with httpx.AsyncClient() as client:
            reply = await client.post(
                f"{auth_url}/auth/login", json={"username": username, "password": PASSWORD}
            )
        reply.raise_for_status()
        return str(reply.json()["access_token"])

    return login
