"""Calls to the other Okno services over HTTP, with the logged-in user's own token.

Each service is its own process with its own rules (roles, audit of personal data, idempotent
creates): going through their APIs keeps those rules in one place instead of copying them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import Request

from services.common.settings import Settings

#: Services the workspace talks to.
BACKENDS = (
    "auth",
    "directory",
    "knowledge",
    "appointments",
    "complaints",
    "supervision",
    "callbacks",
)
TIMEOUT_S = 5.0


class BackendError(Exception):
    """A service refused or failed; ``message`` is what the operator is shown."""

    def __init__(self, service: str, status: int, message: str) -> None:
        super().__init__(f"{service}: {status} {message}")
        self.service = service
        self.status = status
        self.message = message


def default_urls(settings: Settings) -> dict[str, str]:
    """Where `okno serve NAME` listens by default on this host."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return {name: f"http://{host}:{settings.service_port(name)}" for name in BACKENDS}


def service_urls(request: Request) -> Mapping[str, str]:
    """The services' base URLs: set on the app (tests, other layouts) or the defaults."""
    configured: Mapping[str, str] | None = getattr(request.app.state, "service_urls", None)
    settings: Settings = request.app.state.settings
    return {**default_urls(settings), **(configured or {})}


class Backend:
    """One user's view of the other services."""

    def __init__(self, urls: Mapping[str, str], token: str) -> None:
        self.urls = urls
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self,
        method: str,
        service: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        url = f"{self.urls[service]}{path}"
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT_S) as client:
                reply = await client.request(
                    method,
                    url,
                    params=clean,
                    json=json,
                    headers={**self.headers, **(headers or {})},
                )
        except httpx.HTTPError as exc:
            raise BackendError(service, 503, "сервис недоступен") from exc
        if reply.status_code >= 400:
            raise BackendError(service, reply.status_code, _problem_text(reply))
        return reply.json() if reply.content else None

    async def get(self, service: str, path: str, /, **params: Any) -> Any:
        return await self.call("GET", service, path, params=params)


def _problem_text(reply: httpx.Response) -> str:
    """The detail of a problem-details answer, with field errors when there are some."""
    try:
        body = reply.json()
    except ValueError:
        return reply.reason_phrase
    if not isinstance(body, dict):
        return reply.reason_phrase
    detail = str(body.get("detail") or body.get("title") or reply.reason_phrase)
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors[:5])
        detail = f"{detail} ({fields})"
    return detail
