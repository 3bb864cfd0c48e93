"""The delivery worker: forwards queued complaints and notices, and watches deadlines.

Several workers may run; `FOR UPDATE SKIP LOCKED` and leases split the rows between them. Each
round: take over new knowledge notices, record missed deadlines, lease a batch, send it
concurrently, and mark each row in its own transaction after its endpoint answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random as _random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import structlog
from prometheus_client import start_http_server
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.appointments.notify import NotifySettings
from services.common.db import create_engine, session_factory, transaction
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.complaints import notifier, outbox
from services.complaints.channels import (
    DeliveryFailed,
    HttpWebhookSender,
    MailSender,
    Outgoing,
    SmtpSender,
    WebhookSender,
)
from services.complaints.config import ComplaintSettings
from services.complaints.service import mark_overdue
from services.complaints.voice import VoiceIntake

_log = structlog.get_logger(__name__)
Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class Delivery:
    """What a worker needs to deliver: its database, channels, policy and clock."""

    sessions: async_sessionmaker[AsyncSession]
    config: ComplaintSettings
    recordings: Path
    webhook: WebhookSender
    mail: MailSender
    clock: Clock = utc_now
    random: Callable[[], float] = _random.random


@dataclass(frozen=True, slots=True)
class RoundResult:
    claimed: int
    delivered: int
    failed: int
    notices_queued: int
    overdue: int


async def _send(delivery: Delivery, message: Outgoing) -> None:
    if message.channel == "webhook":
        await delivery.webhook.post(message, timestamp=int(delivery.clock().timestamp()))
    else:
        await delivery.mail.mail(message)


async def _attempt(delivery: Delivery, row_id: int, message: Outgoing) -> str | None:
    """Send one message; None when the endpoint took it, else the error to record."""
    try:
        await _send(delivery, message)
    except DeliveryFailed as exc:
        return str(exc)
    except Exception as exc:
        _log.exception("delivery failed unexpectedly", outbox_id=row_id)
        return f"error: {type(exc).__name__}"
    return None


async def _record(
    delivery: Delivery, batch: list[tuple[int, str, Outgoing]], errors: list[str | None]
) -> int:
    """Mark the batch's outcomes in one transaction; returns how many were delivered."""
    outcomes = list(zip(batch, errors, strict=True))
    now = delivery.clock()
    states: dict[int, str | None] = {}
    async with transaction(delivery.sessions) as session:
        delivered = await outbox.mark_delivered(
            session, [row_id for (row_id, _, _), error in outcomes if error is None], now=now
        )
        for (row_id, _, _), error in outcomes:
            if error is not None:
                states[row_id] = await outbox.mark_failed(
                    session,
                    row_id,
                    error=error,
                    now=now,
                    config=delivery.config,
                    random=delivery.random,
                )
    for (row_id, kind, message), error in outcomes:
        if error is None:
            notifier.delivered(kind, message.channel)
        else:
            notifier.attempt_failed(message.channel, states[row_id])
            _log.warning(
                "delivery attempt failed", outbox_id=row_id, error=error, state=states[row_id]
            )
    return len(delivered)


async def deliver_round(delivery: Delivery) -> RoundResult:
    """One round of the worker."""
    config = delivery.config
    async with transaction(delivery.sessions) as session:
        queued = await outbox.enqueue_notices(session, now=delivery.clock())
        overdue = await mark_overdue(session, now=delivery.clock())
    async with transaction(delivery.sessions) as session:
        rows = await outbox.claim(
            session,
            now=delivery.clock(),
            lease=config.delivery_lease_seconds,
            limit=config.delivery_batch,
        )
        await outbox.preload(session, rows)
        batch = []
        for row in rows:
            try:
                message = await outbox.build(session, row, recordings=delivery.recordings)
            except Exception as exc:
                # One message that cannot be built must not stall the others.
                _log.exception("outbox message cannot be built", outbox_id=row.id)
                await outbox.mark_failed(
                    session,
                    row.id,
                    error=f"error: {type(exc).__name__}",
                    now=delivery.clock(),
                    config=config,
                    random=delivery.random,
                )
                continue
            batch.append((row.id, row.kind, message))
    # Sent concurrently, marked together: a worker that dies before marking leaves leases
    # that run out, and the rows go again under the same idempotency keys.
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(_attempt(delivery, row_id, message)) for row_id, _, message in batch
        ]
    delivered = await _record(delivery, batch, [task.result() for task in tasks])
    async with transaction(delivery.sessions) as session:
        notifier.backlog(await outbox.backlog(session))
    return RoundResult(len(batch), delivered, len(batch) - delivered, queued, overdue)


async def run_worker(
    settings: Settings,
    *,
    database_url: str,
    stop: asyncio.Event,
    redis_url: str | None = None,
    config: ComplaintSettings | None = None,
    notify: NotifySettings | None = None,
    interval: float = 1.0,
    clock: Clock = utc_now,
    metrics_port: int | None = None,
) -> None:
    """Run rounds until `stop` is set; a full batch is followed at once by the next round,
    and a failed round is logged and retried after `interval`. With `redis_url`, the voice
    menu's recorded messages are registered alongside (`services.complaints.voice`). With
    `metrics_port`, the worker's metrics (deliveries, dead letters, backlog) are served for
    Prometheus on `settings.host`."""
    config = config or ComplaintSettings()
    exporter = start_http_server(metrics_port, addr=settings.host) if metrics_port else None
    engine = create_engine(database_url, pool_size=2)
    redis = create_redis(redis_url) if redis_url else None
    try:
        async with (
            httpx.AsyncClient(timeout=config.delivery_timeout) as client,
            asyncio.TaskGroup() as group,
        ):
            delivery = Delivery(
                sessions=session_factory(engine),
                config=config,
                recordings=config.recordings_path(settings),
                webhook=HttpWebhookSender(client),
                mail=SmtpSender(notify or NotifySettings(), timeout=config.delivery_timeout),
                clock=clock,
            )
            if redis is not None:
                intake = VoiceIntake(
                    streams=Streams(redis, settings.stream_prefix()),
                    sessions=delivery.sessions,
                    config=config,
                    recordings=delivery.recordings,
                    consumer=f"{socket.gethostname()}-{os.getpid()}",
                    clock=clock,
                )
                group.create_task(intake.run(stop))
            group.create_task(_deliver(delivery, stop, interval))
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()
        if exporter is not None:
            await asyncio.to_thread(exporter[0].shutdown)
            exporter[0].server_close()


async def _deliver(delivery: Delivery, stop: asyncio.Event, interval: float) -> None:
    batch = delivery.config.delivery_batch
    while not stop.is_set():
        busy = False
        try:
            result = await deliver_round(delivery)
            busy = result.claimed >= batch
            if result.claimed or result.notices_queued or result.overdue:
                _log.info(
                    "complaints delivery round",
                    claimed=result.claimed,
                    delivered=result.delivered,
                    failed=result.failed,
                    notices_queued=result.notices_queued,
                    overdue=result.overdue,
                )
        except Exception:
            _log.exception("complaints delivery round failed")
        if busy:
            continue
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
