"""Agencies' delivery preferences: channel, endpoint, deadlines and the webhook secret.

The secret is generated here, returned once in the response that set it, and kept only in
the database (never in the repository or logs); an administrator rotates it with
`new_secret`."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth.models import User
from services.common.audit import record_audit
from services.common.problems import NotFound
from services.complaints.models import DeliveryPreference
from services.complaints.schemas import ChannelIn, ChannelOut
from services.directory.models import Agency


async def _agency(session: AsyncSession, code: str) -> Agency:
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"No office with code {code!r}")
    return agency


def _out(agency: Agency, row: DeliveryPreference | None, secret: str | None = None) -> ChannelOut:
    if row is None:
        return ChannelOut(
            agency_code=agency.code,
            channel="inbox",
            webhook_url=None,
            email=None,
            ack_hours=None,
            answer_days=None,
            has_secret=False,
        )
    return ChannelOut(
        agency_code=agency.code,
        channel=row.channel,
        webhook_url=row.webhook_url,
        email=row.email,
        ack_hours=row.ack_hours,
        answer_days=row.answer_days,
        has_secret=row.webhook_secret is not None,
        secret=secret,
    )


async def get_channel(session: AsyncSession, agency_code: str) -> ChannelOut:
    """An agency's preference; agencies that set none receive in their inbox."""
    agency = await _agency(session, agency_code)
    return _out(agency, await session.get(DeliveryPreference, agency.id))


async def set_channel(
    session: AsyncSession, agency_code: str, data: ChannelIn, *, user: User
) -> ChannelOut:
    """Create or replace the preference; a webhook without a secret gets one."""
    agency = await _agency(session, agency_code)
    row = await session.get(DeliveryPreference, agency.id, with_for_update=True)
    if row is None:
        row = DeliveryPreference(agency_id=agency.id)
        session.add(row)
    row.channel = data.channel
    row.webhook_url = data.webhook_url
    row.email = data.email
    row.ack_hours, row.answer_days = data.ack_hours, data.answer_days
    secret = None
    if data.channel == "webhook" and (data.new_secret or row.webhook_secret is None):
        secret = secrets.token_urlsafe(32)
        row.webhook_secret = secret
    await session.flush()
    await record_audit(
        session,
        actor=user.username,
        actor_id=user.id,
        action="complaints.channel.set",
        subject_type="agency",
        subject_id=agency.code,
        details={"channel": data.channel, "new_secret": secret is not None},
    )
    return _out(agency, row, secret)
