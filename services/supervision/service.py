"""Reading and switching the centre's modes.

The modes live in one Redis hash that the bridge reads for every new call (so a change
applies within seconds), and each change is also sent to the router as an event, so that
routing (night mode → auto-attendant, emergency announcement) follows too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.acd import events as r
from services.common.audit import record_audit
from services.common.streams import Streams
from services.router.wire import send_events
from services.supervision.schemas import ModesIn, ModesOut

MODES_KEY = "modes"


def modes_key(prefix: str) -> str:
    """The Redis hash of a centre's modes (`okno:<centre>:modes`)."""
    return f"{prefix}:{MODES_KEY}"


def _out(fields: dict[str, str]) -> ModesOut:
    changed = fields.get("changed_at")
    return ModesOut(
        night_override=fields.get("night_override", "auto"),
        emergency=fields.get("emergency") == "1",
        announcement=fields.get("announcement") or None,
        changed_at=datetime.fromisoformat(changed) if changed else None,
        changed_by=fields.get("changed_by") or None,
    )


async def read_modes(streams: Streams, prefix: str) -> ModesOut:
    """The modes now in force."""
    redis: Any = streams.client
    return _out(await redis.hgetall(modes_key(prefix)))


async def change_modes(
    session: AsyncSession,
    streams: Streams,
    prefix: str,
    change: ModesIn,
    *,
    actor: str,
    actor_id: int,
) -> ModesOut:
    """Apply a change: audit it (in the caller's transaction), store it, tell the router."""
    current = await read_modes(streams, prefix)
    night = change.night_override or current.night_override
    emergency = current.emergency if change.emergency is None else change.emergency
    announcement = change.announcement if change.announcement else current.announcement
    if not emergency:
        announcement = None
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="supervision.modes",
        subject_type="centre",
        subject_id=prefix,
        details={"night_override": night, "emergency": emergency},
    )
    fields = {
        "night_override": night,
        "emergency": "1" if emergency else "0",
        "announcement": announcement or "",
        "changed_at": datetime.now(UTC).isoformat(),
        "changed_by": actor,
    }
    redis: Any = streams.client
    await redis.hset(modes_key(prefix), mapping=fields)
    if night != current.night_override:
        await send_events(streams, r.NightModeOverride(night))
    if emergency != current.emergency or announcement != current.announcement:
        await send_events(streams, r.EmergencyMode(emergency, announcement or ""))
    return _out(fields)
