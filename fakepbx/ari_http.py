"""Shared pieces of the ARI HTTP layer: authentication, parameter parsing, error bodies."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from fakepbx.engine import Engine
from fakepbx.errors import AriError


def credentials_ok(request_user: str | None, expected: tuple[str, str]) -> bool:
    return request_user == f"{expected[0]}:{expected[1]}"


def request_credentials(api_key: str | None, authorization: str | None) -> str | None:
    """``api_key=user:pass`` in the query or HTTP basic auth, as Asterisk accepts both."""
    if api_key:
        return api_key
    if authorization and authorization.lower().startswith("basic "):
        try:
            return base64.b64decode(authorization[6:]).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


def require_auth(request: Request) -> None:
    expected: tuple[str, str] = request.app.state.credentials
    given = request_credentials(
        request.query_params.get("api_key"), request.headers.get("authorization")
    )
    if not credentials_ok(given, expected):
        raise HTTPException(401, "Authentication required")


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def param(request: Request, name: str, default: str | None = None) -> str | None:
    return request.query_params.get(name, default)


def required(request: Request, name: str) -> str:
    value = request.query_params.get(name)
    if value is None or value == "":
        raise AriError(400, f"Missing parameter {name}")
    return value


def int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as error:
        raise AriError(400, f"Invalid parameter {name}") from error


def no_content() -> Response:
    return Response(status_code=204)


def error_response(error: AriError) -> JSONResponse:
    return JSONResponse({"message": error.message}, status_code=error.status)
