"""Creating and dropping throw-away databases on a PostgreSQL server."""

from __future__ import annotations

from sqlalchemy import text

from services.common.db import create_engine


async def create_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE (outside a transaction, as PostgreSQL requires)."""
    engine = create_engine(admin_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def drop_database(admin_url: str, name: str) -> None:
    """DROP DATABASE, disconnecting anyone still connected."""
    engine = create_engine(admin_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
