"""The transactional outbox: messages written with the complaint, leased and marked by workers.

Delivery is at-least-once: a row is marked only after the endpoint took the message, so a
worker that dies in between leaves the row to be sent again once its lease runs out. The
idempotency key, the same on every attempt, lets the receiver drop the repeat; exactly-once
at the receiver is at-least-once here plus deduplication there.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Text, and_, case, cast, func, literal, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.complaints import repository
from services.complaints.channels import Outgoing
from services.complaints.config import ComplaintSettings
from services.complaints.messages import complaint_message, notice_message
from services.complaints.models import (
    Complaint,
    ComplaintEvent,
    DeliveryPreference,
    OutboxMessage,
)
from services.complaints.policy import backoff_delay
from services.directory.models import Agency, Municipality, Service
from services.knowledge.models import Notice

WORKER = "delivery"


def new_key() -> str:
    return uuid.uuid4().hex


def destination(preference: DeliveryPreference | None) -> tuple[str, str] | None:
    """(channel, endpoint) of an agency that takes messages from outside, None for the inbox."""
    if preference is None or preference.channel == "inbox":
        return None
    if preference.channel == "webhook":
        assert preference.webhook_url is not None  # guaranteed by a check constraint
        return "webhook", preference.webhook_url
    assert preference.email is not None
    return "email", preference.email


def enqueue_complaint(
    session: AsyncSession, complaint: Complaint, route: tuple[str, str], *, now: dt.datetime
) -> None:
    """Queue a complaint for its agency's endpoint, in the transaction that registers it."""
    channel, endpoint = route
    session.add(
        OutboxMessage(
            kind="complaint",
            complaint_id=complaint.id,
            agency_id=complaint.agency_id,
            channel=channel,
            endpoint=endpoint,
            idempotency_key=new_key(),
            state="pending",
            attempts=0,
            next_attempt_at=now,
        )
    )


async def enqueue_notices(session: AsyncSession, *, now: dt.datetime) -> int:
    """Take over the knowledge service's unforwarded notices: queue those of agencies with a
    webhook or mail channel (once each, by a unique index), and mark the rest forwarded, since
    the agency inbox already shows them. Returns how many were queued."""
    active = and_(Notice.forwarded_at.is_(None), Notice.status.in_(("open", "in_progress")))
    endpoint = case(
        (DeliveryPreference.channel == "webhook", DeliveryPreference.webhook_url),
        else_=DeliveryPreference.email,
    )
    queued = await session.execute(
        insert(OutboxMessage)
        .from_select(
            [
                "kind",
                "notice_id",
                "agency_id",
                "channel",
                "endpoint",
                "idempotency_key",
                "state",
                "attempts",
                "next_attempt_at",
            ],
            select(
                literal("notice"),
                Notice.id,
                Notice.agency_id,
                DeliveryPreference.channel,
                endpoint,
                func.replace(cast(func.gen_random_uuid(), Text), "-", ""),
                literal("pending"),
                literal(0),
                literal(now),
            )
            .join(DeliveryPreference, DeliveryPreference.agency_id == Notice.agency_id)
            .where(active, DeliveryPreference.channel.in_(("webhook", "email"))),
        )
        .on_conflict_do_nothing()
        .returning(OutboxMessage.id)
    )
    count = len(queued.all())
    await session.execute(
        update(Notice)
        .where(
            active,
            ~select(DeliveryPreference.agency_id)
            .where(
                DeliveryPreference.agency_id == Notice.agency_id,
                DeliveryPreference.channel.in_(("webhook", "email")),
            )
            .exists(),
        )
        .values(forwarded_at=now)
    )
    return count


async def claim(
    session: AsyncSession, *, now: dt.datetime, lease: float, limit: int
) -> list[OutboxMessage]:
    """Lease due rows that no live worker holds; other workers skip the locked ones."""
    rows = list(
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == "pending",
                OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.leased_until.is_(None), OutboxMessage.leased_until <= now),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.leased_until = now + dt.timedelta(seconds=lease)
        row.attempts += 1
    await session.flush()
    return rows


async def preload(session: AsyncSession, rows: list[OutboxMessage]) -> None:
    """Load what `build` reads for a batch in a few statements; `build` then finds it all in
    the session's identity map instead of querying row by row."""
    agencies = {row.agency_id for row in rows}
    complaint_ids = [row.complaint_id for row in rows if row.complaint_id is not None]
    notice_ids = [row.notice_id for row in rows if row.notice_id is not None]
    await session.scalars(select(Agency).where(Agency.id.in_(agencies)))
    await session.scalars(
        select(DeliveryPreference).where(DeliveryPreference.agency_id.in_(agencies))
    )
    if notice_ids:
        await session.scalars(select(Notice).where(Notice.id.in_(notice_ids)))
    if complaint_ids:
        loaded = list(
            await session.scalars(select(Complaint).where(Complaint.id.in_(complaint_ids)))
        )
        services = {c.service_id for c in loaded if c.service_id is not None}
        towns = {c.municipality_id for c in loaded if c.municipality_id is not None}
        if services:
            await session.scalars(select(Service).where(Service.id.in_(services)))
        if towns:
            await session.scalars(select(Municipality).where(Municipality.id.in_(towns)))


async def build(session: AsyncSession, row: OutboxMessage, *, recordings: Path) -> Outgoing:
    """The message of a leased row, with the agency's current webhook secret."""
    agency = await session.get(Agency, row.agency_id)
    assert agency is not None  # foreign key
    preference = await repository.preference(session, row.agency_id)
    if row.kind == "notice":
        notice = await session.get(Notice, row.notice_id)
        assert notice is not None  # foreign key
        return notice_message(row, notice, agency=agency, preference=preference)
    complaint = await session.get(Complaint, row.complaint_id)
    assert complaint is not None  # foreign key
    service = await session.get(Service, complaint.service_id) if complaint.service_id else None
    town = (
        await session.get(Municipality, complaint.municipality_id)
        if complaint.municipality_id
        else None
    )
    return complaint_message(
        row,
        complaint,
        agency=agency,
        service=service,
        town=town,
        preference=preference,
        recordings=recordings,
    )


async def _pending(session: AsyncSession, row_id: int) -> OutboxMessage | None:
    """The row, locked, if it still waits for delivery (another worker may have marked it)."""
    row = await session.get(OutboxMessage, row_id, with_for_update=True, populate_existing=True)
    return row if row is not None and row.state == "pending" else None


async def mark_delivered(
    session: AsyncSession, row_ids: list[int], *, now: dt.datetime
) -> list[int]:
    """Record that the endpoints took these messages, in a few statements for the batch.
    Returns the rows marked now (a row another worker already marked is left alone)."""
    if not row_ids:
        return []
    marked = (
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(row_ids), OutboxMessage.state == "pending")
            .values(state="delivered", delivered_at=now, leased_until=None, last_error=None)
            .returning(
                OutboxMessage.id,
                OutboxMessage.complaint_id,
                OutboxMessage.notice_id,
                OutboxMessage.agency_id,
                OutboxMessage.channel,
            )
        )
    ).all()
    notices = [row.notice_id for row in marked if row.notice_id is not None]
    if notices:
        await session.execute(
            update(Notice)
            .where(Notice.id.in_(notices), Notice.forwarded_at.is_(None))
            .values(forwarded_at=now)
        )
    complaints = [row for row in marked if row.complaint_id is not None]
    if complaints:
        # Only a delivery to the complaint's current office moves its status; one to the
        # office it was redirected from is still recorded on the timeline.
        await session.execute(
            update(Complaint)
            .where(
                tuple_(Complaint.id, Complaint.agency_id).in_(
                    [(row.complaint_id, row.agency_id) for row in complaints]
                ),
                Complaint.status == "forwarded",
            )
            .values(status="delivered", updated_at=now)
        )
    if complaints:
        await session.execute(
            insert(ComplaintEvent),
            [
                {
                    "complaint_id": row.complaint_id,
                    "event": "delivered",
                    "at": now,
                    "actor": WORKER,
                    "note": row.channel,
                }
                for row in complaints
            ],
        )
    return [row.id for row in marked]


async def mark_failed(
    session: AsyncSession,
    row_id: int,
    *,
    error: str,
    now: dt.datetime,
    config: ComplaintSettings,
    random: Callable[[], float],
) -> str | None:
    """Schedule the next attempt, or move the row to the dead letters after the last one.
    Returns the row's new state, None if it was no longer pending."""
    row = await _pending(session, row_id)
    if row is None:
        return None
    row.last_error, row.leased_until = error[:500], None
    if row.attempts < config.delivery_max_attempts:
        delay = backoff_delay(
            row.attempts,
            base=config.delivery_backoff_base,
            cap=config.delivery_backoff_cap,
            random=random,
        )
        row.next_attempt_at = now + dt.timedelta(seconds=delay)
        return "pending"
    row.state = "dead"
    if row.kind == "complaint":
        complaint = await session.get(Complaint, row.complaint_id)
        assert complaint is not None  # foreign key
        repository.add_event(
            session,
            complaint,
            "delivery_failed",
            at=now,
            actor=WORKER,
            note=f"{row.channel}: {row.attempts} attempts, last error: {row.last_error}",
        )
    return "dead"


async def resend(session: AsyncSession, row_id: int, *, now: dt.datetime) -> OutboxMessage | None:
    """Give a dead letter a fresh set of attempts, keeping its idempotency key, to the
    agency's endpoint as it is now (a supervisor usually re-sends after it was corrected)."""
    row = await session.get(OutboxMessage, row_id, with_for_update=True)
    if row is None or row.state != "dead":
        return row
    route = destination(await repository.preference(session, row.agency_id))
    if route is not None:
        row.channel, row.endpoint = route
    row.state, row.attempts, row.next_attempt_at = "pending", 0, now
    row.leased_until = None
    return row


async def backlog(session: AsyncSession) -> dict[str, int]:
    """Rows waiting and given up, for the gauges."""
    rows = await session.execute(
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.state != "delivered")
        .group_by(OutboxMessage.state)
    )
    counts = {"pending": 0, "dead": 0}
    for state, count in rows:
        counts[state] = count
    return counts
