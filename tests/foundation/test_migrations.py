"""Migrations run up from an empty database, down again, and up again."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from services.common.db import create_engine
from services.common.migrate import alembic_config, upgrade
from tests.support.databases import create_database, drop_database

pytestmark = pytest.mark.integration

EXPECTED = {
    "users", "audit_log", "agencies", "agency_hours", "agency_holidays", "agency_services",
    "municipalities", "services", "public_holidays", "alembic_version",
}  # fmt: skip


async def test_upgrade_from_empty_then_downgrade_and_upgrade_again(
    postgres_admin_url: str,
) -> None:
    from alembic import command

    name = f"okno_mig_{secrets.token_hex(4)}"
    await create_database(postgres_admin_url, name)
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=1)
    try:
        await upgrade(engine)
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert EXPECTED <= tables

        def downgrade(connection: object) -> None:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.downgrade(config, "base")

        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with engine.connect() as conn:
            left = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert left <= {"alembic_version"}
        await upgrade(engine)
    finally:
        await engine.dispose()
        await drop_database(postgres_admin_url, name)
