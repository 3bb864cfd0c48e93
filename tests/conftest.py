"""Shared fixtures: a fresh PostgreSQL database and Redis key prefix per test run.

With OKNO_TEST_DATABASE_URL / OKNO_TEST_REDIS_URL set (CI), the run creates its own database on
that server and drops it afterwards; with neither set, embedded servers are started in a
temporary folder and stopped at the end, so `make test` works on a bare machine.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import make_url

from services.apps import build_app
from services.auth import service as accounts
from services.auth.models import Role
from services.common.db import create_engine, session_factory, transaction
from services.common.embedded import embedded_postgres, embedded_redis
from services.common.migrate import upgrade
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.demo_seed import DEMO_DIR
from services.directory import service as directory
from services.directory.importer import parse_json
from tests.support.databases import create_database, drop_database
from tests.support.mail import MailInbox
from tests.support.mail import smtp_server as run_smtp_server
from tests.support.servers import serve_app

RUN_ID = secrets.token_hex(4)


@pytest.fixture(scope="session")
def embedded_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="okno-test-") as folder:
        yield Path(folder)


@pytest.fixture(scope="session")
def postgres_admin_url(embedded_dir: Path) -> Iterator[str]:
    """A URL with the right to create databases: the configured server or an embedded one."""
    configured = os.environ.get("OKNO_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    with embedded_postgres(embedded_dir, database="postgres") as server:
        yield server.url


@pytest.fixture(scope="session")
async def database_url(postgres_admin_url: str) -> AsyncIterator[str]:
    """A database of this test run only, migrated to head, dropped afterwards."""
    name = f"okno_test_{RUN_ID}"
    await create_database(postgres_admin_url, name)
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    yield url
    await drop_database(postgres_admin_url, name)


@pytest.fixture(scope="session")
def redis_url(embedded_dir: Path) -> Iterator[str]:
    configured = os.environ.get("OKNO_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    with embedded_redis(embedded_dir) as server:
        yield server.url


@pytest.fixture(scope="session")
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    """A key prefix of this test run; its keys are deleted afterwards."""
    prefix = f"okno-test-{RUN_ID}"
    yield prefix
    client = create_redis(redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


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


ServiceStarter = Callable[[str], Awaitable[str]]


@pytest.fixture(scope="session")
async def service_url(settings: Settings, seeded: None) -> AsyncIterator[ServiceStarter]:
    """Start a service (by its `okno serve` name) on loopback once per run; returns its URL."""
    started: dict[str, str] = {}
    async with AsyncExitStack() as stack:

        async def start(name: str) -> str:
            if name not in started:
                app = build_app(
                    name,
                    settings,
                    database_url=settings.database_url or "",
                    redis_url=settings.redis_url or "",
                )
                started[name] = await stack.enter_async_context(serve_app(app))
            return started[name]

        yield start


@pytest.fixture(scope="session")
async def auth_url(service_url: ServiceStarter) -> str:
    return await service_url("auth")


@pytest.fixture(scope="session")
async def directory_url(service_url: ServiceStarter) -> str:
    return await service_url("directory")


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


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[tuple[int, MailInbox]]:
    """A real SMTP server (aiosmtpd) on loopback, shared by the run."""
    with run_smtp_server() as server:
        yield server
