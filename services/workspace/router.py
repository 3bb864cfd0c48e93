"""Every page of the workspace, and its two static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.common.problems import NotFound
from services.workspace import admin, login, operator, supervisor

STATIC = Path(__file__).resolve().parent / "static"
_TYPES = {"workspace.js": "text/javascript", "workspace.css": "text/css"}

router = APIRouter()
for part in (login.router, operator.router, supervisor.router, admin.router):
    router.include_router(part)


@router.get("/static/{name}", include_in_schema=False)
async def static(name: str) -> FileResponse:
    """The page script and style sheet (a fixed list: no path from the URL reaches the disk)."""
    media_type = _TYPES.get(name)
    if media_type is None:
        raise NotFound(f"No static file {name!r}")
    return FileResponse(STATIC / name, media_type=media_type, headers={"Cache-Control": "no-cache"})
