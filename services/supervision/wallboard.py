"""The built-in wallboard: a page for a big screen fed by server-sent events from the live state.

A browser's EventSource cannot send an Authorization header, so the page and its stream take a
*wallboard key* in the URL instead: a JWT signed with the centre's secret, issued to a logged-in
staff member by `POST /supervision/wallboard/key`, valid for `KEY_TTL_S` (a working day on a
TV), and good for nothing else — its audience makes every other endpoint refuse it. It shows
aggregate figures only: no caller numbers, no names.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from services.auth.tokens import ISSUER
from services.common.cancel import raise_if_cancelling
from services.router.live import live_key

AUDIENCE = "okno-wallboard"
KEY_TTL_S = 12 * 3600
HEARTBEAT_S = 15.0
_ALGORITHM = "HS256"


class InvalidKey(Exception):
    """The wallboard key is malformed, forged, expired or not a wallboard key."""


def issue_key(
    *, secret: str, user_id: int, centre: str, now: datetime | None = None
) -> tuple[str, datetime]:
    """A wallboard key for one centre and its expiry."""
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(seconds=KEY_TTL_S)
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "centre": centre,
        "iat": int(issued.timestamp()),
        "exp": int(expires.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=_ALGORITHM), expires


def read_key(key: str, *, secret: str, centre: str) -> tuple[int, datetime]:
    """The user who asked for the key and when it expires; raises `InvalidKey`."""
    try:
        payload = jwt.decode(
            key,
            secret,
            algorithms=[_ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidKey("the wallboard key has expired") from exc
    except jwt.PyJWTError as exc:
        raise InvalidKey("the wallboard key is not valid") from exc
    if payload.get("centre") != centre:
        raise InvalidKey("the wallboard key is for another centre")
    return int(payload["sub"]), datetime.fromtimestamp(payload["exp"], UTC)


def board(live: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the wallboard shows, from a live state document (None: no router is routing)."""
    if live is None:
        return {"routing": False}
    figures = live.get("wallboard", {})
    at = float(live.get("at", 0.0))
    longest: dict[str, float] = {}
    for call in live.get("waiting", []):
        longest[call["topic"]] = max(longest.get(call["topic"], 0.0), float(call["waited"]))
    callbacks = live.get("callbacks", [])
    open_callbacks: dict[str, int] = {}
    for callback in callbacks:
        open_callbacks[callback["topic"]] = open_callbacks.get(callback["topic"], 0) + 1
    waiting = figures.get("waiting_by_topic", {})
    expected = figures.get("expected_wait_by_topic", {})
    names = sorted(set(waiting) | set(expected) | set(open_callbacks))
    agents = figures.get("agents", {})
    return {
        "routing": True,
        "at": at,
        "centre": figures.get("centre", ""),
        "night_mode": bool(figures.get("night_mode")),
        "emergency": bool(figures.get("emergency")),
        "waiting": sum(waiting.values()),
        "longest_wait": float(figures.get("longest_wait_seconds", 0.0)),
        "service_level_15m": figures.get("service_level_15m"),
        "service_level_today": figures.get("service_level_today"),
        "answered_today": figures.get("answered_today", 0),
        "abandoned_today": figures.get("abandoned_today", 0),
        "agents": {
            "ready": agents.get("ready", 0),
            "busy": sum(agents.get(s, 0) for s in ("ringing", "talking", "wrap_up")),
            "paused": agents.get("paused", 0),
        },
        "callbacks_open": len(callbacks),
        # Never dialled (first attempt, not dialling nor talking) and past the first promise.
        "callbacks_overdue": sum(
            1
            for cb in callbacks
            if cb["attempt"] == 1
            and cb["state"] not in ("dialling", "talking")
            and float(cb["deadline"]) < at
        ),
        "topics": [
            {
                "topic": name,
                "waiting": waiting.get(name, 0),
                "longest_wait": round(longest.get(name, 0.0), 1),
                "expected_wait": expected.get(name),
                "callbacks": open_callbacks.get(name, 0),
            }
            for name in names
        ],
    }


def sse(data: Mapping[str, Any]) -> bytes:
    """One server-sent event carrying a JSON document."""
    return f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


async def board_events(
    redis: Any, prefix: str, *, expires_at: datetime, heartbeat_s: float = HEARTBEAT_S
) -> AsyncIterator[bytes]:
    """The board now, then again on every live document the router publishes; a comment line
    keeps idle proxies from closing the stream; the stream ends when the key expires (the page
    then reloads and shows that the link is no longer valid)."""
    key = live_key(prefix)
    pubsub = redis.pubsub()
    await pubsub.subscribe(key)
    try:
        current = await redis.get(key)
        yield sse(board(json.loads(current) if current else None))
        while datetime.now(UTC) < expires_at:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=heartbeat_s)
            raise_if_cancelling()
            if message is None:
                still = await redis.exists(key)
                yield sse(board(None)) if not still else b": alive\n\n"
                continue
            yield sse(board(json.loads(message["data"])))
    finally:
        await pubsub.unsubscribe(key)
        await pubsub.aclose()
