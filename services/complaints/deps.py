"""Dependencies of the complaints endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.deps import current_user
from services.auth.models import User
from services.common.deps import RuntimeDep, get_session

#: One transaction per request, committed *before* the response is sent (scope="function"):
#: a caller told a registration number must find the complaint at once, and a failed commit
#: must become an error response, not a lost complaint after a 201. FastAPI's default scope
#: for dependencies with yield ends them after the response.
CommittedSession = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Optional: a staff token (e.g. the bridge's)")


async def optional_staff(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User | None:
    """The staff user behind a bearer token if one is sent (an invalid token is still 401)."""
    if credentials is None:
        return None
    return await current_user(runtime, credentials)


#: On the public status: the voice menu calls it for every caller from the bridge's one
#: address, under its own service account, so staff are exempt from the per-address limit.
OptionalStaff = Annotated[User | None, Depends(optional_staff)]
