"""FastAPI dependency shortcuts shared by every service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.runtime import Runtime
from services.common.settings import Settings


def get_runtime(request: Request) -> Runtime:
    """The process's runtime, built in the lifespan."""
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_settings(request: Request) -> Settings:
    """The process's settings object."""
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    async with get_runtime(request).sessions() as session, session.begin():
        yield session


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": commit before the response is sent, so a client that got 201 can read
# its write at once, and a failed commit becomes an error response instead of a lost write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class PageParams:
    """Pagination of every list endpoint: `limit` (1-200) and `offset`."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset


PageDep = Annotated[PageParams, Depends()]
