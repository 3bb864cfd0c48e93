"""Errors with a stable id and details, rendered as RFC 9457 problem details by one handler."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
_log = structlog.get_logger(__name__)
_TYPE_BASE = "https://okno.example/problems/"


class AppError(Exception):
    """A failure the client can act on. `error_id` is stable and documented; `details` is JSON."""

    status: int = 400
    error_id: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, **details: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.details = details


class NotFound(AppError):
    status, error_id, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, error_id, title = 409, "conflict", "Conflict"


class Unauthorized(AppError):
    status, error_id, title = 401, "unauthorized", "Authentication required"


class Forbidden(AppError):
    status, error_id, title = 403, "forbidden", "Not allowed for this role"


class TooManyAttempts(AppError):
    status, error_id, title = 429, "too-many-attempts", "Too many failed attempts"


class InvalidInput(AppError):
    status, error_id, title = 422, "invalid-input", "Invalid input"


class PayloadTooLarge(AppError):
    status, error_id, title = 413, "payload-too-large", "Request body too large"


def problem_response(
    *,
    status: int,
    error_id: str,
    title: str,
    detail: str,
    instance: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """Build an `application/problem+json` response."""
    body: dict[str, Any] = {
        "type": _TYPE_BASE + error_id,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "error_id": error_id,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        loc = [
            str(part)
            for part in error.get("loc", ())
            if part not in ("body", "query", "path", "[key]")
        ]
        errors.append({"field": ".".join(loc) or "body", "message": str(error.get("msg", ""))})
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of the app, expected or not, a problem-details response."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(
            status=exc.status,
            error_id=exc.error_id,
            title=exc.title,
            detail=exc.detail,
            instance=request.url.path,
            headers=headers,
            **exc.details,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        fields = ", ".join(sorted({e["field"] for e in errors}))
        return problem_response(
            status=422,
            error_id="invalid-input",
            title="Invalid input",
            detail=f"Invalid value for: {fields}",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.error("unhandled error", path=request.url.path, exc_info=exc)
        return problem_response(
            status=500,
            error_id="internal-error",
            title="Internal error",
            detail="The server failed to process the request; it has been logged.",
            instance=request.url.path,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        return problem_response(
            status=exc.status_code,
            error_id=phrase.lower().replace(" ", "-"),
            title=phrase,
            detail=str(exc.detail),
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )
