"""Sessions and CSRF protection of the workspace's pages.

The session cookie holds the same signed access token the other services accept, so the
workspace calls them on the user's behalf with the user's own rights. It is HttpOnly (scripts
cannot read it), SameSite=Strict (no cross-site request carries it) and Secure in production.
Every POST also carries a CSRF token: after login it is an HMAC of the session token under the
centre's secret (nothing to store); on the login form, a random value also set as a cookie
(double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from services.common.settings import Settings

SESSION_COOKIE = "okno_ws"
LOGIN_COOKIE = "okno_ws_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def csrf_for(session_token: str, secret: str) -> str:
    """The CSRF token bound to one session."""
    key = hashlib.sha256(f"workspace-csrf:{secret}".encode()).digest()
    return hmac.new(key, session_token.encode(), hashlib.sha256).hexdigest()


def csrf_valid(given: str | None, expected: str) -> bool:
    """Constant-time comparison; a missing token is never valid."""
    return bool(given) and bool(expected) and hmac.compare_digest(str(given), expected)


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def set_cookie(
    response: Response, name: str, value: str, settings: Settings, max_age: int | None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=settings.env == "production",
        path="/",
    )


def clear_cookie(response: Response, name: str, settings: Settings) -> None:
    response.delete_cookie(
        name, path="/", httponly=True, samesite="strict", secure=settings.env == "production"
    )


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token of a POST: the form field, else the header the page's script sends."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None
