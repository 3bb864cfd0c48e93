"""Voice messages left in the menu become complaints (R9): the intake of `ivr-outcomes`.

The bridge writes one `ivr-outcomes` entry per recorded message, after copying the recording
into the recordings folder (`file`). The intake reads the stream with its own consumer group,
registers each message in one transaction and acknowledges the entry only after the commit; a
redelivered entry finds its complaint by the idempotency key `voice:<call_id>` and changes
nothing. There is no staff user behind these complaints: the actor is "voice-menu" with no user
id, on the timeline, in `created_by` and in the audit log. A message whose file is missing is
still registered, flagged on its timeline (note `recording missing`) and counted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.db import transaction
from services.common.streams import Entry, Streams
from services.complaints import notifier
from services.complaints.config import ComplaintSettings
from services.complaints.responsible import resolve_voice
from services.complaints.schemas import RECORDING_PATTERN, VOICEMAIL_TEXT
from services.complaints.service import Draft, create, repeat_of
from services.ivr.streams import IVR_OUTCOMES

VOICE_ACTOR = "voice-menu"
GROUP = "complaints"
#: Kinds of recorded messages (`RecordedMessage.kind`; "voicemail" is accepted as a synonym).
MESSAGE_KINDS = frozenset({"complaint", "message", "voicemail"})
MISSING_TEXT = (
    "Голосовое сообщение из меню: файл записи не получен. "
    "Свяжитесь с заявителем по номеру, с которого он звонил."
)
#: An entry another consumer took and left unacknowledged this long is taken over.
RECLAIM_IDLE_MS = 60_000
_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    """A recorded message as the bridge reported it."""

    call_id: str
    kind: str
    file: str | None
    caller: str
    topic: str
    duration: int | None


def message_of(entry: Entry) -> VoiceMessage | None:
    """The recorded message in an `ivr-outcomes` entry; None for other kinds (callbacks are
    the router's). An entry without a call id is keyed by its own stream id."""
    fields = entry.fields
    kind = fields.get("kind", "")
    if kind not in MESSAGE_KINDS:
        return None
    file = fields.get("file") or None
    if file is not None and not re.fullmatch(RECORDING_PATTERN, file):
        file = None  # a path or an odd name is never opened; the message is flagged instead
    duration = fields.get("duration", "")
    return VoiceMessage(
        call_id=fields.get("call_id") or f"entry-{entry.id}",
        kind=kind,
        file=file,
        caller="".join(ch for ch in fields.get("caller", "") if ch.isdigit())[:20],
        topic=fields.get("topic") or "complaints",
        duration=int(duration) if duration.isdigit() else None,
    )


def idempotency_key(call_id: str) -> str:
    """One complaint per call; a long call id is hashed to fit the key column."""
    key = f"voice:{call_id}"
    return key if len(key) <= 100 else "voice:" + hashlib.sha256(call_id.encode()).hexdigest()


class NoOffice(Exception):
    """The directory has no office to take the message: it waits (pending) until it has."""


async def register_message(
    session: AsyncSession,
    message: VoiceMessage,
    *,
    now: dt.datetime,
    config: ComplaintSettings,
    recordings: Path,
) -> tuple[str, bool]:
    """Register the message as a complaint in the caller's transaction; returns its number
    and whether it is new (False: the entry was seen before)."""
    key = idempotency_key(message.call_id)
    existing = await repeat_of(session, key)
    if existing is not None:
        return existing.number, False
    found = await resolve_voice(
        session,
        topic=message.topic,
        configured=config.voice_complaint_agencies,
        municipality=config.voice_complaint_municipality,
    )
    if found is None:
        raise NoOffice("no office in the directory takes voice complaints")
    present = message.file is not None and (recordings / message.file).is_file()
    note = f"voice menu, call {message.call_id}"
    if not present:
        note += "; recording missing"
        notifier.recording_missing()
    complaint = await create(
        session,
        Draft(
            source="voicemail",
            phone=message.caller,
            text=VOICEMAIL_TEXT if present else MISSING_TEXT,
            recording=message.file if present else None,
        ),
        found,
        actor=VOICE_ACTOR,
        actor_id=None,
        now=now,
        config=config,
        idempotency_key=key,
        note=note[:500],
        details={
            "call_id": message.call_id,
            "kind": message.kind,
            "topic": message.topic,
            "recording_missing": not present,
        },
    )
    return complaint.number, True


@dataclass(slots=True)
class VoiceIntake:
    """What the intake needs: the stream, the database, the policy and a clock."""

    streams: Streams
    sessions: async_sessionmaker[AsyncSession]
    config: ComplaintSettings
    recordings: Path
    consumer: str
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    async def handle(self, entry: Entry) -> bool:
        """Register one entry and acknowledge it after the commit; False when it must wait
        (no office yet), in which case it stays pending and is tried again later."""
        message = message_of(entry)
        if message is None:
            notifier.voice_skipped(entry.fields.get("kind") or "unknown")
        else:
            try:
                async with transaction(self.sessions) as session:
                    number, new = await register_message(
                        session,
                        message,
                        now=self.clock(),
                        config=self.config,
                        recordings=self.recordings,
                    )
            except NoOffice:
                _log.error("voice complaint waits for an office", entry=entry.id)
                return False
            except (OperationalError, InterfaceError, OSError):
                raise
            except Exception:
                # Kept pending and tried again: never lost, and it does not hold up the rest.
                _log.exception("voice complaint not registered yet", entry=entry.id)
                return False
            if new:
                _log.info("voice complaint registered", number=number, call_id=message.call_id)
        await self.streams.ack(IVR_OUTCOMES, GROUP, entry.id)
        return True

    async def round(self, *, block_ms: int | None) -> tuple[int, int]:
        """Entries left by this consumer or a dead one, then new ones (waiting up to
        `block_ms` only when there were none); returns how many were acknowledged and how
        many must wait."""
        entries, _fresh = await self.streams.backlog_then_new(
            IVR_OUTCOMES,
            GROUP,
            self.consumer,
            reclaim_idle_ms=RECLAIM_IDLE_MS,
            count=50,
            block_ms=block_ms,
        )
        done = [await self.handle(entry) for entry in entries]
        return sum(done), len(done) - sum(done)

    async def run(self, stop: asyncio.Event, *, retry_after: float = 5.0) -> None:
        """Take messages until `stop` is set. While the database is unreachable, or entries
        wait for an office, they stay pending and are tried again after `retry_after`."""
        ready = False
        while not stop.is_set():
            try:
                if not ready:
                    await self.streams.ensure_group(IVR_OUTCOMES, GROUP)
                    ready = True
                _done, waiting = await self.round(block_ms=1000)
            except (OperationalError, InterfaceError, OSError, RedisError) as exc:
                _log.warning("voice complaints wait for the servers", error=type(exc).__name__)
                waiting = 1
            except Exception:
                # Deliveries run in the same process: an intake failure must not stop them.
                _log.exception("voice complaints round failed")
                waiting = 1
            if waiting:
                await _pause(stop, retry_after)


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
