"""Authentication and role checks as FastAPI dependencies, used by every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.auth.models import Role, User
from services.auth.tokens import InvalidToken, read_token
from services.common.deps import RuntimeDep
from services.common.problems import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


async def current_user(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The active staff user behind the bearer token; deactivated accounts lose access at once."""
    if credentials is None:
        raise Unauthorized("A bearer token is required")
    try:
        claims = read_token(credentials.credentials, secret=runtime.signing_secret)
    except InvalidToken as exc:
        raise Unauthorized(f"The access token is not valid: {exc}") from exc
    async with runtime.sessions() as session:
        user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account no longer exists or is disabled")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets only the given roles through (403 for the others)."""
    allowed = {role.value for role in roles}

    async def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden(
                f"This needs one of the roles: {', '.join(sorted(allowed))}",
                required_roles=sorted(allowed),
            )
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(Role.ADMINISTRATOR))]
SupervisorUser = Annotated[User, Depends(require_roles(Role.SUPERVISOR, Role.ADMINISTRATOR))]


def client_ip(request: Request) -> str | None:
    """The peer address, for the audit log."""
    return request.client.host if request.client else None
