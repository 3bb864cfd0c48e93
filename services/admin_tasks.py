"""Administrative tasks behind CLI commands; they return a message or raise ValueError."""

from __future__ import annotations

from pydantic import ValidationError

from services.auth import service as accounts
from services.auth.schemas import UserCreate
from services.common.db import check_database, create_engine, session_factory, transaction
from services.common.problems import AppError
from services.directory import service as directory
from services.directory.importer import parse_file


def _describe(error: AppError) -> str:
    rows = error.details.get("errors") or []
    extra = "".join(f"\n  {row['field']}: {row['message']}" for row in rows[:20])
    return f"{error.detail}{extra}"


async def create_account(
    database_url: str,
    *,
    username: str,
    role: str,
    full_name: str,
    agency_code: str | None,
    password: str,
) -> str:
    """Create a staff account after the same checks as the HTTP API."""
    try:
        data = UserCreate.model_validate(
            {
                "username": username,
                "role": role,
                "full_name": full_name,
                "password": password,
                "agency_code": agency_code,
            }
        )
    except ValidationError as exc:
        raise ValueError(
            "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        ) from exc
    engine = create_engine(database_url, pool_size=1)
    try:
        await check_database(engine)
        async with transaction(session_factory(engine)) as session:
            user = await accounts.create_user(
                session,
                username=data.username,
                full_name=data.full_name,
                role=data.role,
                password=data.password,
                agency_code=data.agency_code,
                actor="okno-cli",
                actor_id=None,
            )
        return f"Created {user.role} {user.username!r} (id {user.id})."
    except AppError as exc:
        raise ValueError(_describe(exc)) from exc
    finally:
        await engine.dispose()


async def import_directory_file(database_url: str, raw: bytes, *, filename: str) -> str:
    """Import a directory file in one transaction and describe what changed."""
    engine = create_engine(database_url, pool_size=1)
    try:
        data = parse_file(raw, filename=filename)
        await check_database(engine)
        async with transaction(session_factory(engine)) as session:
            report = await directory.import_directory(
                session, data, actor="okno-cli", actor_id=None
            )
        return (
            f"Imported {filename}: services {report.services_created} new, "
            f"{report.services_updated} updated; offices {report.agencies_created} new, "
            f"{report.agencies_updated} updated."
        )
    except AppError as exc:
        raise ValueError(_describe(exc)) from exc
    finally:
        await engine.dispose()
