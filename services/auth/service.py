"""Account logic: login with lockout, user management. The caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import Role, User
from services.auth.passwords import hash_password, needs_rehash, verify_password
from services.common.audit import AuditEntry, record_audit
from services.common.problems import (
    AppError,
    Conflict,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthorized,
)
from services.common.settings import Settings
from services.directory.models import Agency


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """How many failed logins in a row lock an account, and for how long."""

    max_failures: int
    lockout: timedelta

    @classmethod
    def of(cls, settings: Settings) -> LockoutPolicy:
        """The centre's policy (`OKNO_LOGIN_MAX_FAILURES`, `OKNO_LOGIN_LOCKOUT_SECONDS`)."""
        return cls(settings.login_max_failures, timedelta(seconds=settings.login_lockout_seconds))


async def find_user(session: AsyncSession, *, username: str) -> User | None:
    """A user by case-insensitive username."""
    result = await session.execute(
        select(User).where(func.lower(User.username) == username.lower())
    )
    return result.scalar_one_or_none()


async def authenticate(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    policy: LockoutPolicy,
    now: datetime,
    ip: str | None,
) -> User | AppError:
    """Check a login and return the user, or the error to answer with.

    The error is returned, not raised, because the failed-login counter and its audit entry
    must be committed although the login fails. A locked account refuses even the right
    password until the lockout passes, which stops online guessing.
    """
    user = await find_user(session, username=username)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        await record_audit(session, actor=username, action="login.locked", actor_id=user.id, ip=ip)
        retry = int((user.locked_until - now).total_seconds()) + 1
        return TooManyAttempts(
            "Account temporarily locked after repeated failed logins", retry_after_seconds=retry
        )
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= policy.max_failures:
                user.locked_until = now + policy.lockout
                user.failed_logins = 0
        await record_audit(
            session,
            actor=username,
            action="login.failed",
            actor_id=user.id if user else None,
            ip=ip,
        )
        return Unauthorized("Wrong username or password")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    await record_audit(session, actor=user.username, action="login.ok", actor_id=user.id, ip=ip)
    return user


async def _agency_id(session: AsyncSession, role: Role, agency_code: str | None) -> int | None:
    if role is not Role.AGENCY:
        if agency_code:
            raise InvalidInput("Only agency users belong to an agency", field="agency_code")
        return None
    if not agency_code:
        raise InvalidInput("An agency user needs agency_code", field="agency_code")
    agency_id = await session.scalar(select(Agency.id).where(Agency.code == agency_code))
    if agency_id is None:
        raise InvalidInput(f"No agency with code {agency_code!r}", field="agency_code")
    return agency_id


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str,
    agency_code: str | None,
    actor: str,
    actor_id: int | None,
) -> User:
    """Create a staff account; usernames are unique regardless of case."""
    if await find_user(session, username=username) is not None:
        raise Conflict(f"User {username!r} already exists", field="username")
    user = User(
        username=username,
        full_name=full_name,
        role=role.value,
        agency_id=await _agency_id(session, role, agency_code),
        password_hash=hash_password(password),
        is_active=True,
        failed_logins=0,
    )
    session.add(user)
    await session.flush()
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="user.create",
        subject_type="user",
        subject_id=str(user.id),
        details={"role": role.value},
    )
    return user


async def update_user(
    session: AsyncSession,
    *,
    user_id: int,
    full_name: str | None,
    role: Role | None,
    agency_code: str | None,
    password: str | None,
    is_active: bool | None,
    unlock: bool,
    actor: str,
    actor_id: int,
) -> User:
    """Change an account; every change is audited by field name (never the password itself)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}")
    changed: list[str] = []
    if full_name is not None:
        user.full_name, changed = full_name, [*changed, "full_name"]
    if role is not None or agency_code is not None:
        new_role = role or Role(user.role)
        user.agency_id = await _agency_id(session, new_role, agency_code)
        user.role, changed = new_role.value, [*changed, "role"]
    if password is not None:
        user.password_hash, changed = hash_password(password), [*changed, "password"]
    if is_active is not None:
        user.is_active, changed = is_active, [*changed, "is_active"]
    if unlock:
        user.locked_until, user.failed_logins, changed = None, 0, [*changed, "unlock"]
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="user.update",
        subject_type="user",
        subject_id=str(user.id),
        details={"fields": changed},
    )
    return user


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> tuple[list[User], int]:
    """A page of users ordered by username, and the total."""
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    rows = await session.scalars(select(User).order_by(User.username).limit(limit).offset(offset))
    return list(rows), total


async def list_audit(
    session: AsyncSession, *, action: str | None, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """A page of the audit log, newest first, optionally for one action."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(rows), total
