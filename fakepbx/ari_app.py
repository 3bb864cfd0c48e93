"""The HTTP side of the fake: ARI REST under ``/ari``, the events WebSocket, and the
control API under ``/fakepbx`` (for driving the fake from another process)."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fakepbx import ari_channels, ari_events, ari_resources, control
from fakepbx.ari_http import error_response, require_auth
from fakepbx.engine import Engine
from fakepbx.errors import AriError


def build_app(
    engine: Engine, credentials: tuple[str, str], controller: control.Controller
) -> FastAPI:
    app = FastAPI(title="Okno fake PBX", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine = engine
    app.state.credentials = credentials
    app.state.controller = controller
    auth = [Depends(require_auth)]
    app.include_router(ari_channels.router, dependencies=auth)
    app.include_router(ari_resources.router, dependencies=auth)
    app.include_router(ari_events.router)
    app.include_router(control.router)

    @app.exception_handler(AriError)
    async def ari_error(_: Request, error: AriError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: HTTPException | StarletteHTTPException) -> JSONResponse:
        message = error.detail if error.status_code != 404 else "Resource not found"
        return JSONResponse({"message": message}, status_code=error.status_code)

    return app
