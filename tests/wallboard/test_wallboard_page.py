"""The built-in wallboard of the supervision service: its key, page and event stream."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.apps import build_app
from services.auth.models import Role
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.router.live import live_key, publish_live
from services.supervision import wallboard as wb
from tests.conftest import TokenFactory
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

AT = 1_800_000_000.0


def live(waiting: int, *, at: float = AT) -> dict[str, Any]:
    """A live document as the router writes it (two topics, one overdue callback)."""
    return {
        "at": at,
        "wallboard": {
            "centre": "test",
            "night_mode": False,
            "emergency": True,
            "waiting_by_topic": {"mfc": waiting, "social": 0},
            "callbacks_by_topic": {},
            "longest_wait_seconds": 31.5,
            "expected_wait_by_topic": {"mfc": 20.0},
            "agents": {"ready": 1, "ringing": 1, "talking": 2, "wrap_up": 1, "paused": 3},
            "service_level_15m": 0.75,
            "service_level_today": 0.9,
            "answered_today": 40,
            "abandoned_today": 2,
        },
        "agents": [],
        "waiting": [
            {
                "call_id": "c1",
                "topic": "mfc",
                "waited": 31.5,
                "expected_wait": 10.0,
                "caller_masked": "+7********01",
            },
        ],  # fmt: skip
        "callbacks": [
            {
                "callback_id": "cb1",
                "topic": "social",
                "due_at": AT - 900,
                "deadline": AT - 300,
                "attempt": 1,
                "state": "waiting",
            },
            {
                "callback_id": "cb2",
                "topic": "mfc",
                "due_at": AT,
                "deadline": AT + 600,
                "attempt": 1,
                "state": "scheduled",
            },
            {  # dialled once already: its retry's deadline is not the promise, not overdue
                "callback_id": "cb3",
                "topic": "social",
                "due_at": AT - 200,
                "deadline": AT - 100,
                "attempt": 2,
                "state": "waiting",
            },
            {  # the citizen's phone rings past the promise: dialled, so not overdue either
                "callback_id": "cb4",
                "topic": "social",
                "due_at": AT - 900,
                "deadline": AT - 200,
                "attempt": 1,
                "state": "dialling",
            },
        ],  # fmt: skip
    }


@pytest.fixture
async def supervision(settings: Settings) -> AsyncIterator[tuple[str, Settings]]:
    own = settings.model_copy(update={"centre_id": f"wb-{secrets.token_hex(4)}"})
    app = build_app(
        "supervision", own, database_url=own.database_url or "", redis_url=own.redis_url or ""
    )
    async with serve_app(app) as url:
        yield url, own


def test_the_board_sums_up_a_live_document_without_personal_data() -> None:
    board = wb.board(live(4))
    assert board["waiting"] == 4
    assert board["agents"] == {"ready": 1, "busy": 4, "paused": 3}
    assert board["callbacks_open"] == 4 and board["callbacks_overdue"] == 1
    assert board["topics"] == [
        {"topic": "mfc", "waiting": 4, "longest_wait": 31.5, "expected_wait": 20.0, "callbacks": 1},
        {"topic": "social", "waiting": 0, "longest_wait": 0.0, "expected_wait": None,
         "callbacks": 3},
    ]  # fmt: skip
    assert "+7" not in json.dumps(board)
    assert wb.board(None) == {"routing": False}


def test_a_key_is_only_a_wallboard_key_for_its_centre() -> None:
    key, expires = wb.issue_key(secret="s" * 40, user_id=7, centre="main")
    assert wb.read_key(key, secret="s" * 40, centre="main") == (7, expires.replace(microsecond=0))
    with pytest.raises(wb.InvalidKey, match="another centre"):
        wb.read_key(key, secret="s" * 40, centre="other")
    with pytest.raises(wb.InvalidKey, match="not valid"):
        wb.read_key(key, secret="t" * 40, centre="main")
    old, _ = wb.issue_key(
        secret="s" * 40, user_id=7, centre="main", now=datetime.now(UTC) - timedelta(days=1)
    )
    with pytest.raises(wb.InvalidKey, match="expired"):
        wb.read_key(old, secret="s" * 40, centre="main")


async def test_staff_get_a_key_that_opens_the_page_and_nothing_else(
    supervision: tuple[str, Settings], token_for: TokenFactory, http: httpx.AsyncClient
) -> None:
    url, _settings = supervision
    assert (await http.post(f"{url}/supervision/wallboard/key")).status_code == 401
    token = await token_for(Role.OPERATOR)
    reply = await http.post(
        f"{url}/supervision/wallboard/key", headers={"Authorization": f"Bearer {token}"}
    )
    assert reply.status_code == 200
    key = reply.json()["key"]
    page = await http.get(f"{url}{reply.json()['url']}")
    assert page.status_code == 200 and "Сервис за 15 минут" in page.text
    assert page.headers["cache-control"] == "no-store"
    refused = await http.get(f"{url}/supervision/wallboard", params={"key": key[:-2] + "xx"})
    assert refused.status_code == 401 and "недействительна" in refused.text
    as_bearer = await http.get(
        f"{url}/supervision/modes", headers={"Authorization": f"Bearer {key}"}
    )
    assert as_bearer.status_code == 401
    stream = await http.get(f"{url}/supervision/wallboard/stream", params={"key": "nonsense"})
    assert stream.status_code == 401
    assert stream.headers["content-type"].startswith("application/problem+json")


async def next_event(lines: AsyncIterator[str]) -> dict[str, Any]:
    async with asyncio.timeout(15):
        async for line in lines:
            if line.startswith("data: "):
                event: dict[str, Any] = json.loads(line.removeprefix("data: "))
                return event
    raise AssertionError("the stream ended")


async def test_the_stream_sends_the_board_now_and_on_every_publication(
    supervision: tuple[str, Settings], token_for: TokenFactory, http: httpx.AsyncClient
) -> None:
    url, settings = supervision
    token = await token_for(Role.SUPERVISOR)
    key = (
        await http.post(
            f"{url}/supervision/wallboard/key", headers={"Authorization": f"Bearer {token}"}
        )
    ).json()["key"]
    redis = create_redis(settings.redis_url or "")
    channel = live_key(settings.stream_prefix())
    try:
        await publish_live(redis, channel, live(3))
        params = {"key": key}
        async with http.stream("GET", f"{url}/supervision/wallboard/stream", params=params) as got:
            assert got.headers["content-type"].startswith("text/event-stream")
            lines = got.aiter_lines()
            first = await next_event(lines)
            assert first["waiting"] == 3 and first["emergency"] is True
            # Publish until the subscription is surely in place (the first may precede it).
            async with asyncio.timeout(15):
                while True:
                    await publish_live(redis, channel, live(5, at=AT + 1))
                    event = await next_event(lines)
                    if event.get("at") == AT + 1:
                        break
            assert event["waiting"] == 5
            assert event["service_level_15m"] == 0.75
    finally:
        await redis.delete(channel)
        await redis.aclose()
