"""SQLAlchemy 2 async engine, sessions and the declarative base shared by every service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import DateTime, MetaData, func
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.common.errors import ServerUnreachable

# Stable constraint names so Alembic migrations are reproducible.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table; all timestamps are stored as UTC `timestamptz`."""

    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    """Creation and update times kept by the database itself."""

    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def async_url(url: str) -> str:
    """Accept `postgresql://` URLs as users write them and use the asyncpg driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine for one process; built in its bootstrap, never at import."""
    return create_async_engine(
        async_url(url), pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (responses are built after it)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def describe_url(url: str) -> str:
    """Where a database URL points, without its password: for error messages."""
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "local socket"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{host}{port}/{parsed.database or ''}"


async def check_database(engine: AsyncEngine, *, within: float = 5.0) -> None:
    """Fail with a clear message, not a traceback, when PostgreSQL cannot be reached."""
    try:
        async with asyncio.timeout(within), engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
    except (OSError, TimeoutError) as exc:
        raise ServerUnreachable("PostgreSQL", describe_url(str(engine.url)), exc) from exc
    except Exception as exc:  # asyncpg raises its own errors for auth and unknown databases
        if type(exc).__module__.startswith(("asyncpg", "sqlalchemy")):
            raise ServerUnreachable("PostgreSQL", describe_url(str(engine.url)), exc) from exc
        raise


@asynccontextmanager
async def transaction(
    factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session whose transaction commits on success and rolls back on error."""
    async with factory() as session, session.begin():
        yield session
