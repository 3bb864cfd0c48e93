"""Small helpers shared by the complaints tests."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.complaints.conftest import bearer


def town() -> str:
    """A municipality of one test only, so lookups never meet another test's offices."""
    return f"Посёлок {secrets.token_hex(4)}"


def phone() -> str:
    return "+7923" + "".join(str(secrets.randbelow(10)) for _ in range(7))


async def register(http: httpx.AsyncClient, url: str, token: str, **fields: Any) -> dict[str, Any]:
    body = {"phone": phone(), "text": "Нарушен срок выдачи СНИЛС, в МФЦ не отвечают."} | fields
    reply = await http.post(f"{url}/complaints", json=body, headers=bearer(token))
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()
    result["phone"] = body["phone"]
    return result


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 15.0) -> None:
    """Repeat `check` (which may run a worker round) until it holds, or fail after `within`."""
    async with asyncio.timeout(within):
        for _ in range(100_000):
            if await check():
                return
            await asyncio.sleep(0.02)
