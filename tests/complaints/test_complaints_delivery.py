"""Forwarding through the outbox over real sockets: a flaky signed webhook, SMTP with the
recording attached, a worker killed between send and mark, two workers at once, dead letters
and their re-sending, and knowledge notices."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.db import transaction
from services.common.settings import Settings
from services.complaints import notifier
from services.complaints.config import ComplaintSettings
from services.complaints.models import OutboxMessage
from services.complaints.worker import deliver_round, run_worker
from services.directory.models import Agency
from services.knowledge.models import Notice
from tests.complaints.conftest import (
    DeliveryFactory,
    OfficeFactory,
    Receiver,
    Tokens,
    bearer,
)
from tests.complaints.helpers import eventually, register, town
from tests.support.mail import MailInbox
from tests.support.servers import free_port

pytestmark = pytest.mark.integration


async def _set_channel(
    http: httpx.AsyncClient, url: str, tokens: Tokens, office: str, **body: Any
) -> dict[str, Any]:
    reply = await http.put(
        f"{url}/complaints/channels/{office}", json=body, headers=bearer(tokens.admin)
    )
    assert reply.status_code == 200, reply.text
    result: dict[str, Any] = reply.json()
    return result


async def _outbox_rows(
    sessions: async_sessionmaker[AsyncSession], office: str
) -> list[OutboxMessage]:
    async with transaction(sessions) as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .join(Agency, Agency.id == OutboxMessage.agency_id)
            .where(Agency.code == office)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def _timeline(http: httpx.AsyncClient, url: str, number: str, token: str) -> list[str]:
    reply = await http.get(f"{url}/complaints/{number}", headers=bearer(token))
    return [entry["event"] for entry in reply.json()["timeline"]]


async def test_a_flaky_webhook_gets_the_complaint_exactly_once_and_signed(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    receiver: Receiver,
    make_delivery: DeliveryFactory,
) -> None:
    office = await make_office(municipality=town())
    url, hook = receiver.hook(plan=["fail", "fail", "timeout"])
    channel = await _set_channel(
        http, complaints_url, tokens, office, channel="webhook", webhook_url=url
    )
    hook.secret = channel["secret"]
    made = await register(http, complaints_url, tokens.operator, agency_code=office)
    assert made["status"] == "forwarded"
    delivery = make_delivery()

    async def delivered() -> bool:
        await deliver_round(delivery)
        return (await _outbox_rows(delivery.sessions, office))[0].state == "delivered"

    await eventually(delivered)
    assert hook.attempts == 4 and hook.bad_signatures == 0
    assert [payload["number"] for payload in hook.accepted.values()] == [made["number"]]
    payload = next(iter(hook.accepted.values()))
    assert payload["citizen"]["phone"] == made["phone"] and payload["type"] == "complaint"
    row = (await _outbox_rows(delivery.sessions, office))[0]
    assert row.attempts == 4 and row.last_error is None
    events = await _timeline(http, complaints_url, made["number"], tokens.supervisor)
    assert events == ["registered", "forwarded", "delivered"]


async def test_mail_carries_the_recording(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    smtp_server: tuple[int, MailInbox],
    recordings: Path,
    make_delivery: DeliveryFactory,
) -> None:
    _port, inbox = smtp_server
    office = await make_office(municipality=town())
    address = f"{office}@agency.example"
    await _set_channel(http, complaints_url, tokens, office, channel="email", email=address)
    name, audio = f"vm-{secrets.token_hex(4)}.wav", b"RIFF" + secrets.token_bytes(64)
    (recordings / name).write_bytes(audio)
    made = await register(
        http,
        complaints_url,
        tokens.operator,
        agency_code=office,
        source="voicemail",
        recording=name,
        text="",
    )
    delivery = make_delivery()

    async def mailed() -> bool:
        await deliver_round(delivery)
        return any(message["To"] == address for message in inbox.messages)

    await eventually(mailed)
    message = next(message for message in inbox.messages if message["To"] == address)
    assert made["number"] in str(message["Subject"])
    attachments = list(message.iter_attachments())
    assert [part.get_filename() for part in attachments] == [name]
    assert attachments[0].get_content() == audio
    body = message.get_body(("plain",))
    assert body is not None and made["phone"] in body.get_content()


async def test_a_worker_killed_between_send_and_mark_neither_loses_nor_duplicates(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    receiver: Receiver,
    make_delivery: DeliveryFactory,
) -> None:
    office = await make_office(municipality=town())
    release = asyncio.Event()
    url, hook = receiver.hook(plan=["hang"], release=release)
    channel = await _set_channel(
        http, complaints_url, tokens, office, channel="webhook", webhook_url=url
    )
    hook.secret = channel["secret"]
    made = await register(http, complaints_url, tokens.operator, agency_code=office)
    # Long enough a timeout that the worker is still waiting when it dies.
    first = make_delivery()
    first.webhook._client.timeout = httpx.Timeout(30)  # type: ignore[attr-defined]
    worker = asyncio.create_task(deliver_round(first))
    async with asyncio.timeout(10):
        await hook.arrived.wait()  # the agency has the complaint...
    worker.cancel()  # ...and the worker dies before marking it
    with pytest.raises(asyncio.CancelledError):
        await worker
    release.set()
    [row] = await _outbox_rows(first.sessions, office)
    assert row.state == "pending" and row.leased_until is not None

    # A worker that starts before the lease ends leaves the row alone.
    await deliver_round(make_delivery())
    assert hook.attempts == 1
    # Once the lease has run out, the next worker sends it again, with the same key.
    later = make_delivery(
        clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=31),
    )

    async def delivered() -> bool:
        await deliver_round(later)
        return (await _outbox_rows(later.sessions, office))[0].state == "delivered"

    await eventually(delivered)
    assert hook.attempts == 2 and len(hook.accepted) == 1
    events = await _timeline(http, complaints_url, made["number"], tokens.supervisor)
    assert events.count("delivered") == 1


async def test_two_workers_at_once_send_each_complaint_once(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    receiver: Receiver,
    make_delivery: DeliveryFactory,
) -> None:
    office = await make_office(municipality=town())
    url, hook = receiver.hook()
    hook.secret = (
        await _set_channel(http, complaints_url, tokens, office, channel="webhook", webhook_url=url)
    )["secret"]
    numbers = {
        (await register(http, complaints_url, tokens.operator, agency_code=office))["number"]
        for _ in range(12)
    }
    one, two = make_delivery(), make_delivery()

    async def all_delivered() -> bool:
        await asyncio.gather(deliver_round(one), deliver_round(two))
        rows = await _outbox_rows(one.sessions, office)
        return all(row.state == "delivered" for row in rows)

    await eventually(all_delivered)
    assert hook.attempts == 12
    assert {payload["number"] for payload in hook.accepted.values()} == numbers


async def test_dead_letters_wait_for_a_supervisor_to_resend(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    receiver: Receiver,
    make_delivery: DeliveryFactory,
) -> None:
    office = await make_office(municipality=town())
    nowhere = f"http://127.0.0.1:{free_port()}/hook"
    channel = await _set_channel(
        http, complaints_url, tokens, office, channel="webhook", webhook_url=nowhere
    )
    made = await register(http, complaints_url, tokens.operator, agency_code=office)
    dead_before = notifier.DEAD_LETTERS.labels("webhook")._value.get()
    delivery = make_delivery(max_attempts=3)

    async def dead() -> bool:
        await deliver_round(delivery)
        return (await _outbox_rows(delivery.sessions, office))[0].state == "dead"

    await eventually(dead)
    assert notifier.DEAD_LETTERS.labels("webhook")._value.get() == dead_before + 1
    listed = await http.get(
        f"{complaints_url}/complaints/outbox", headers=bearer(tokens.supervisor)
    )
    [letter] = [item for item in listed.json()["items"] if item["agency_code"] == office]
    assert letter["complaint_number"] == made["number"] and letter["attempts"] == 3
    assert "unreachable" in letter["last_error"]
    events = await _timeline(http, complaints_url, made["number"], tokens.supervisor)
    assert events[-1] == "delivery_failed"
    operator = await http.post(
        f"{complaints_url}/complaints/outbox/{letter['id']}/resend",
        headers=bearer(tokens.operator),
    )
    assert operator.status_code == 403

    # The agency fixes its endpoint; the supervisor re-sends.
    url, hook = receiver.hook(secret=channel["secret"])
    await _set_channel(http, complaints_url, tokens, office, channel="webhook", webhook_url=url)
    resent = await http.post(
        f"{complaints_url}/complaints/outbox/{letter['id']}/resend",
        headers=bearer(tokens.supervisor),
    )
    assert resent.json()["state"] == "pending" and resent.json()["endpoint"] == url

    async def delivered() -> bool:
        await deliver_round(delivery)
        return (await _outbox_rows(delivery.sessions, office))[0].state == "delivered"

    await eventually(delivered)
    assert [payload["number"] for payload in hook.accepted.values()] == [made["number"]]


async def test_knowledge_notices_are_forwarded_too(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    receiver: Receiver,
    make_delivery: DeliveryFactory,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    hooked, plain = await make_office(municipality=town()), await make_office(municipality=town())
    url, hook = receiver.hook()
    hook.secret = (
        await _set_channel(http, complaints_url, tokens, hooked, channel="webhook", webhook_url=url)
    )["secret"]
    async with transaction(sessions) as session:
        notices = []
        for code in (hooked, plain):
            agency = await session.scalar(select(Agency).where(Agency.code == code))
            assert agency is not None
            notice = Notice(
                subject_type="agency",
                subject_key=code,
                agency_id=agency.id,
                comment="Сменился телефон приёмной",
                status="open",
                created_by="test",
            )
            session.add(notice)
            notices.append(notice)
        await session.flush()
        ids = [notice.id for notice in notices]
    delivery = make_delivery()

    async def forwarded() -> bool:
        await deliver_round(delivery)
        async with transaction(sessions) as session:
            found = [await session.get(Notice, id_, populate_existing=True) for id_ in ids]
        return all(notice is not None and notice.forwarded_at for notice in found)

    await eventually(forwarded)
    assert [(p["type"], p["id"]) for p in hook.accepted.values()] == [("notice", ids[0])]
    assert len(await _outbox_rows(sessions, plain)) == 0  # the inbox needs no delivery
    await deliver_round(delivery)
    assert hook.attempts == 1


async def test_the_worker_command_delivers_and_stops_cleanly(
    http: httpx.AsyncClient,
    complaints_url: str,
    tokens: Tokens,
    make_office: OfficeFactory,
    receiver: Receiver,
    settings: Settings,
) -> None:
    office = await make_office(municipality=town())
    url, hook = receiver.hook()
    hook.secret = (
        await _set_channel(http, complaints_url, tokens, office, channel="webhook", webhook_url=url)
    )["secret"]
    made = await register(http, complaints_url, tokens.operator, agency_code=office)
    stop = asyncio.Event()
    metrics_port = free_port()
    worker = asyncio.create_task(
        run_worker(
            settings,
            database_url=settings.database_url or "",
            stop=stop,
            config=ComplaintSettings(delivery_backoff_base=0.01, delivery_backoff_cap=0.05),
            interval=0.05,
            metrics_port=metrics_port,
        )
    )
    try:
        async with asyncio.timeout(15):
            await hook.arrived.wait()

        async def exported() -> bool:
            metrics = await http.get(f"http://127.0.0.1:{metrics_port}/metrics")
            return 'okno_complaints_outbox{state="pending"}' in metrics.text

        await eventually(exported)
    finally:
        stop.set()
        async with asyncio.timeout(15):
            await worker
    assert [payload["number"] for payload in hook.accepted.values()] == [made["number"]]
