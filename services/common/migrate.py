"""Running Alembic migrations from code (`okno migrate`, the demo and the tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from services.common.db import async_url, check_database, create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", async_url(database_url).replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    """Bring the schema to `revision` over an existing engine.

    "heads" rather than "head": each feature's migrations form their own branch off the
    foundation revision, so features land independently."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))

    def run(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def migrate(database_url: str, revision: str = "heads") -> None:
    """Check the server answers, then migrate (used by `okno migrate`)."""
    engine = create_engine(database_url, pool_size=1)
    try:
        await check_database(engine)
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


def migrate_sync(database_url: str, revision: str = "heads") -> None:
    """`migrate` for synchronous callers such as the CLI."""
    asyncio.run(migrate(database_url, revision))
