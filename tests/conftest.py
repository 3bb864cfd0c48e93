"""Shared fixtures: a fresh PostgreSQL database and Redis key prefix per test run.

With OKNO_TEST_DATABASE_URL / OKNO_TEST_REDIS_URL set (CI), the run creates its own database on
that server and drops it afterwards; with neither set, embedded servers are started in a
temporary folder and stopped at the end, so `make test` works on a bare machine.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from services.common.db import create_engine
from services.common.embedded import embedded_postgres, embedded_redis
from services.common.migrate import upgrade
from services.common.redis_client import create_redis
from tests.support.databases import create_database, drop_database

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
