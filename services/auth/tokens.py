"""Signed access tokens (JWT, HS256) shared by every service of one centre."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ISSUER = "okno"
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a token asserts about its bearer."""

    user_id: int
    username: str
    role: str
    agency_id: int | None
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged or expired; the message says which."""


def issue_token(
    *,
    secret: str,
    user_id: int,
    username: str,
    role: str,
    agency_id: int | None,
    ttl_seconds: int,
    now: datetime | None = None,
) -> tuple[str, datetime]:
    """A token and its expiry time."""
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=ttl_seconds)
    payload = {
        "iss": ISSUER,
        "sub": str(user_id),
        "usr": username,
        "role": role,
        "agency": agency_id,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=_ALGORITHM), expires


def read_token(token: str, *, secret: str) -> TokenClaims:
    """Verify signature, issuer and expiry, and return the claims."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("token invalid") from exc
    return TokenClaims(
        user_id=int(payload["sub"]),
        username=str(payload.get("usr", "")),
        role=str(payload.get("role", "")),
        agency_id=payload.get("agency"),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )
