"""The callbacks API over HTTP: scheduling with number checks and idempotency, what each role
sees, the audited read with attempts, cancelling, and the figures' endpoint."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.acd import events as e
from services.callbacks.models import Callback, CallbackAttempt
from services.callbacks.router import RouterUnreachable, tell_router
from services.common.audit import AuditEntry
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.router.wire import EVENTS
from tests.callbacks.conftest import Tokens
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

Sessions = async_sessionmaker[AsyncSession]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def router_event(
    redis: aioredis.Redis, settings: Settings, callback_id: str, kind: str
) -> dict[str, Any]:
    """The event about `callback_id` the service sent to the router (removed once read: the
    centre's stream is shared with the other tests of the run)."""
    key = Streams(redis, settings.stream_prefix()).key(EVENTS)
    client: Any = redis  # redis-py's stubs mix sync and async return types
    for entry_id, fields in await client.xrevrange(key, count=500):
        body = json.loads(fields["body"])
        if fields["type"] == kind and body.get("callback_id") == callback_id:
            await client.xdel(key, entry_id)
            return dict(body)
    raise AssertionError(f"no {kind} for {callback_id} on the events stream")


async def stored(
    sessions: Sessions, callback_id: str, *, centre: str = "kuzbass", **changes: Any
) -> None:
    """A callback as the router log would have left it, in the service's centre (first
    promised by its deadline unless `promised_by` is given)."""
    now = dt.datetime.now(dt.UTC)
    values: dict[str, Any] = {
        "caller": "+79059990011",
        "topic": "snils",
        "source": "queue",
        "status": "pending",
        "requested_at": now - dt.timedelta(minutes=3),
        "due_at": now - dt.timedelta(minutes=3),
        "deadline": now + dt.timedelta(minutes=7),
        "attempts": 0,
        "variables": {"choice": "1"},
        "created_by": "router",
        "created_at": now,
        "updated_at": now,
    }
    values.update(changes)
    values.setdefault("promised_by", values["deadline"])
    async with sessions() as session, session.begin():
        session.add(Callback(centre=centre, callback_id=callback_id, **values))


async def test_an_operator_schedules_a_callback_saved_then_sent_to_the_router(
    http: httpx.AsyncClient,
    callbacks_url: str,
    tokens: Tokens,
    sessions: Sessions,
    redis: aioredis.Redis,
    settings: Settings,
) -> None:
    body = {"number": "8 (923) 123-45-67", "topic": "passport", "note": "Перезвонить по записи"}
    reply = await http.post(
        f"{callbacks_url}/callbacks", json=body, headers=bearer(tokens.operator)
    )
    assert reply.status_code == 201, reply.text
    made = reply.json()
    assert (made["caller"], made["status"], made["source"]) == (
        "+79231234567",
        "pending",
        "operator",
    )
    assert made["created_by"] == tokens.operator_name and made["note"] == body["note"]
    async with sessions() as session:
        row = await session.get(Callback, ("kuzbass", made["callback_id"]))
    assert row is not None and row.caller == "+79231234567" and row.topic == "passport"
    event = await router_event(redis, settings, made["callback_id"], "CallbackRequested")
    assert (event["caller"], event["source"], event["topic"]) == (
        "+79231234567",
        "operator",
        "passport",
    )
    assert event["requested_at"] == pytest.approx(row.requested_at.timestamp())


async def test_a_repeat_with_the_same_idempotency_key_returns_the_first_callback(
    http: httpx.AsyncClient,
    callbacks_url: str,
    tokens: Tokens,
    sessions: Sessions,
    redis: aioredis.Redis,
    settings: Settings,
) -> None:
    key = secrets.token_hex(8)
    headers = {**bearer(tokens.supervisor), "Idempotency-Key": key}
    body = {"number": "+7 913 000-11-22"}
    first = await http.post(f"{callbacks_url}/callbacks", json=body, headers=headers)
    second = await http.post(f"{callbacks_url}/callbacks", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["callback_id"] == second.json()["callback_id"]
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Callback).where(Callback.idempotency_key == key)
        )
    assert count == 1
    # Not yet seen by the router (no router-log entry applied): the repeat tells it again.
    await router_event(redis, settings, first.json()["callback_id"], "CallbackRequested")
    await router_event(redis, settings, first.json()["callback_id"], "CallbackRequested")
    # Someone else's request with the same key is refused: a key never shows another's row.
    stolen = await http.post(
        f"{callbacks_url}/callbacks",
        json=body,
        headers={**bearer(tokens.operator), "Idempotency-Key": key},
    )
    assert stolen.status_code == 409 and "caller" not in stolen.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"number": "12345"}, "number"),
        ({"number": "+1 212 555 0100"}, "number"),
        ({"number": "+7 700 123 45 67"}, "number"),  # Kazakhstan
        ({"number": "8 923 123 45 6x"}, "number"),
        ({"number": "89231234567", "topic": "Паспорт"}, "topic"),
        ({"number": "89231234567", "note": "x" * 1001}, "note"),
        ({"number": "89231234567", "extra": 1}, "extra"),
        ({}, "number"),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    http: httpx.AsyncClient, callbacks_url: str, tokens: Tokens, body: dict[str, Any], field: str
) -> None:
    reply = await http.post(
        f"{callbacks_url}/callbacks", json=body, headers=bearer(tokens.operator)
    )
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    named = {problem.get("field")} | {e["field"] for e in problem.get("errors", [])}
    assert field in named


async def test_roles(http: httpx.AsyncClient, callbacks_url: str, tokens: Tokens) -> None:
    base = f"{callbacks_url}/callbacks"
    body = {"number": "89231234567"}
    assert (await http.post(base, json=body)).status_code == 401
    assert (await http.post(base, json=body, headers=bearer(tokens.agency))).status_code == 403
    assert (await http.post(base, json=body, headers=bearer(tokens.admin))).status_code == 403
    assert (await http.get(base, headers=bearer(tokens.agency))).status_code == 403
    assert (await http.get(f"{base}/stats", headers=bearer(tokens.operator))).status_code == 403
    assert (await http.get(f"{base}/stats", headers=bearer(tokens.admin))).status_code == 200
    cancel = await http.post(f"{base}/cb-nobody/cancel", headers=bearer(tokens.operator))
    assert cancel.status_code == 403


async def test_supervisors_see_all_operators_the_waiting_and_their_own(
    http: httpx.AsyncClient, callbacks_url: str, tokens: Tokens, sessions: Sessions
) -> None:
    topic = f"t{secrets.token_hex(4)}"
    now = dt.datetime.now(dt.UTC)
    await stored(sessions, f"cb-{topic}-wait", topic=topic)
    await stored(
        sessions,
        f"cb-{topic}-late",
        topic=topic,
        deadline=now - dt.timedelta(minutes=1),
        requested_at=now - dt.timedelta(minutes=20),
    )
    # Dialled on time, busy, and now waiting for its retry past the retry's deadline: the
    # promise was kept, so it is not overdue.
    await stored(
        sessions,
        f"cb-{topic}-retry",
        topic=topic,
        attempts=1,
        deadline=now - dt.timedelta(seconds=30),
        promised_by=now - dt.timedelta(minutes=5),
        first_dialled_at=now - dt.timedelta(minutes=8),
    )
    await stored(
        sessions, f"cb-{topic}-mine", topic=topic, status="dialling", agent_id=tokens.operator_agent
    )
    # The operator's user name is not their agent: a callback under it is someone else's.
    await stored(
        sessions, f"cb-{topic}-name", topic=topic, status="dialling", agent_id=tokens.operator_name
    )
    await stored(sessions, f"cb-{topic}-theirs", topic=topic, status="dialling", agent_id="op-x")
    await stored(sessions, f"cb-{topic}-done", topic=topic, status="done", agent_id="op-x")
    base = f"{callbacks_url}/callbacks"

    async def ids(token: str, **params: Any) -> list[str]:
        reply = await http.get(base, params={"topic": topic, **params}, headers=bearer(token))
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert page["total"] == len(page["items"])
        for item in page["items"]:
            assert item["caller"] is None and item["caller_masked"] == "+7********11"
        return sorted(item["callback_id"].removeprefix(f"cb-{topic}-") for item in page["items"])

    assert await ids(tokens.supervisor) == [
        "done", "late", "mine", "name", "retry", "theirs", "wait",
    ]  # fmt: skip
    assert await ids(tokens.operator) == ["late", "mine", "retry", "wait"]
    assert await ids(tokens.supervisor, status="dialling") == ["mine", "name", "theirs"]
    assert await ids(tokens.supervisor, overdue="true") == ["late"]
    assert await ids(tokens.supervisor, overdue="false") == [
        "done", "mine", "name", "retry", "theirs", "wait",
    ]  # fmt: skip
    paged = await http.get(
        base, params={"topic": topic, "limit": 2, "offset": 4}, headers=bearer(tokens.supervisor)
    )
    assert (paged.json()["total"], len(paged.json()["items"])) == (7, 2)
    own = await http.get(f"{base}/cb-{topic}-mine", headers=bearer(tokens.operator))
    assert own.status_code == 200 and own.json()["caller"] == "+79059990011"
    other = await http.get(f"{base}/cb-{topic}-name", headers=bearer(tokens.operator))
    assert other.status_code == 404
    bad = await http.get(base, params={"status": "lost"}, headers=bearer(tokens.supervisor))
    assert bad.status_code == 422


async def test_reading_one_callback_shows_number_and_attempts_and_is_audited(
    http: httpx.AsyncClient, callbacks_url: str, tokens: Tokens, sessions: Sessions
) -> None:
    cb = f"cb-{secrets.token_hex(5)}"
    now = dt.datetime.now(dt.UTC)
    await stored(sessions, cb, status="failed", attempts=2, last_result="busy", agent_id="op-x")
    async with sessions() as session, session.begin():
        for n, result in ((1, "no_answer"), (2, "busy")):
            session.add(
                CallbackAttempt(
                    centre="kuzbass",
                    callback_id=cb,
                    attempt=n,
                    agent_id="op-x",
                    result=result,
                    at=now + dt.timedelta(minutes=n),
                    source_entry=f"{n}-0",
                )
            )
    reply = await http.get(f"{callbacks_url}/callbacks/{cb}", headers=bearer(tokens.supervisor))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["caller"] == "+79059990011" and body["variables"] == {"choice": "1"}
    assert [(a["attempt"], a["result"]) for a in body["attempt_log"]] == [
        (1, "no_answer"),
        (2, "busy"),
    ]
    async with sessions() as session:
        audited = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "callbacks.read", AuditEntry.subject_id == cb)
        )
    assert audited == 1
    # Someone else's finished callback does not exist for an operator.
    hidden = await http.get(f"{callbacks_url}/callbacks/{cb}", headers=bearer(tokens.operator))
    assert hidden.status_code == 404
    assert (
        await http.get(f"{callbacks_url}/callbacks/cb-none", headers=bearer(tokens.supervisor))
    ).status_code == 404


async def test_a_supervisor_cancels_an_open_callback_and_the_router_is_told(
    http: httpx.AsyncClient,
    callbacks_url: str,
    tokens: Tokens,
    sessions: Sessions,
    redis: aioredis.Redis,
    settings: Settings,
) -> None:
    cb = f"cb-{secrets.token_hex(5)}"
    await stored(sessions, cb)
    url = f"{callbacks_url}/callbacks/{cb}/cancel"
    reply = await http.post(
        url, json={"reason": "гражданин отказался"}, headers=bearer(tokens.supervisor)
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["status"] == "cancelled" and reply.json()["finished_at"] is not None
    event = await router_event(redis, settings, cb, "CallbackCancelled")
    assert event["reason"] == "гражданин отказался"
    # A repeat (say, after a 503 when Redis hiccuped) succeeds and tells the router again.
    again = await http.post(url, headers=bearer(tokens.supervisor))
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    await router_event(redis, settings, cb, "CallbackCancelled")
    done = f"cb-{secrets.token_hex(5)}"
    await stored(sessions, done, status="done")
    finished = await http.post(
        f"{callbacks_url}/callbacks/{done}/cancel", headers=bearer(tokens.supervisor)
    )
    assert finished.status_code == 409 and finished.json()["state"] == "done"
    missing = await http.post(
        f"{callbacks_url}/callbacks/cb-none/cancel", headers=bearer(tokens.supervisor)
    )
    assert missing.status_code == 404
    talking = f"cb-{secrets.token_hex(5)}"
    await stored(
        sessions, talking, status="dialling", agent_id="op-x", answered_at=dt.datetime.now(dt.UTC)
    )
    refused = await http.post(
        f"{callbacks_url}/callbacks/{talking}/cancel", headers=bearer(tokens.supervisor)
    )
    assert refused.status_code == 409 and refused.json()["state"] == "talking"


async def test_the_stats_endpoint_counts_what_is_stored(
    http: httpx.AsyncClient, callbacks_url: str, tokens: Tokens, sessions: Sessions
) -> None:
    url = f"{callbacks_url}/callbacks/stats"
    before = (await http.get(url, headers=bearer(tokens.supervisor))).json()
    now = dt.datetime.now(dt.UTC)
    await stored(sessions, f"cb-{secrets.token_hex(5)}", requested_at=now - dt.timedelta(days=2))
    await stored(
        sessions,
        f"cb-{secrets.token_hex(5)}",
        status="failed",
        finished_at=now,
        deadline=now - dt.timedelta(seconds=1),
    )
    after = (await http.get(url, headers=bearer(tokens.supervisor))).json()
    assert after["pending"] == before["pending"] + 1
    assert after["failed_total"] == before["failed_total"] + 1
    assert after["counted_total"] == before["counted_total"] + 1
    assert after["oldest_pending_age_seconds"] >= 2 * 86400


async def test_an_event_redis_does_not_take_is_a_503_naming_the_saved_callback() -> None:
    client = create_redis(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(RouterUnreachable) as caught:
            await tell_router(Streams(client, "okno:t"), e.CallbackCancelled("cb-1"), "cb-1")
    finally:
        await client.aclose()
    assert caught.value.status == 503 and caught.value.details == {"callback_id": "cb-1"}
