"""The appointments worker: reminders and follow-ups, one round a minute.

Several workers may run; the claims in the database split the work between them.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import structlog

from services.appointments.followup import StreamSink, publish_followups
from services.appointments.notify import NotifySettings, gateways
from services.appointments.reminders import send_reminders
from services.common.db import create_engine, session_factory
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams

_log = structlog.get_logger(__name__)


async def run_worker(
    settings: Settings,
    notify: NotifySettings,
    *,
    database_url: str,
    redis_url: str,
    stop: asyncio.Event,
    interval: float = 60.0,
) -> None:
    """Run rounds until `stop` is set; a failed round is logged and the next one still runs."""
    engine = create_engine(database_url, pool_size=2)
    client = create_redis(redis_url)
    sessions = session_factory(engine)
    sms, mailer = gateways(notify)
    sink = StreamSink(Streams(client, settings.centre_id))
    try:
        while not stop.is_set():
            now = dt.datetime.now(dt.UTC)
            try:
                reminders = await send_reminders(
                    sessions, now=now, tz=settings.tz, sms=sms, mailer=mailer
                )
                followups = await publish_followups(sessions, now=now, sink=sink)
                _log.info(
                    "appointments round",
                    sms_sent=reminders.sms_sent,
                    email_sent=reminders.email_sent,
                    failed=reminders.failed,
                    followups=followups,
                )
            except Exception:
                _log.exception("appointments round failed")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
    finally:
        await client.aclose()
        await engine.dispose()
