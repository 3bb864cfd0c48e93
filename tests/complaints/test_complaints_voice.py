"""Voice messages from the menu become complaints: the `ivr-outcomes` intake, over real Redis
and PostgreSQL, and the complaints worker running it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.common.audit import AuditEntry
from services.common.db import create_engine, session_factory, transaction
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Entry, Streams
from services.complaints.config import ComplaintSettings
from services.complaints.models import Complaint, ComplaintEvent
from services.complaints.voice import (
    GROUP,
    MISSING_TEXT,
    VOICE_ACTOR,
    VoiceIntake,
    idempotency_key,
    message_of,
    register_message,
)
from services.complaints.worker import run_worker
from services.directory.models import Agency
from services.ivr.streams import IVR_OUTCOMES
from tests.complaints.helpers import eventually


@pytest.fixture
async def streams(redis_url: str, redis_prefix: str) -> AsyncIterator[Streams]:
    client = create_redis(redis_url)
    yield Streams(client, f"{redis_prefix}:voice:{secrets.token_hex(3)}")
    await client.aclose()


@pytest.fixture
def intake(
    streams: Streams, sessions: async_sessionmaker[AsyncSession], recordings: Path, seeded: None
) -> VoiceIntake:
    return VoiceIntake(
        streams=streams,
        sessions=sessions,
        config=ComplaintSettings(),
        recordings=recordings,
        consumer="test",
    )


def call_id() -> str:
    return f"17645{secrets.randbelow(10**5):05d}.{secrets.randbelow(1000)}"


def recorded(
    call: str, *, file: str | None, kind: str = "complaint", **extra: str
) -> dict[str, str]:
    fields = {
        "call_id": call,
        "kind": kind,
        "recording": f"{call}-rec1",
        "duration": "42",
        "did": "88005550100",
        "caller": "+79231234567",
        "topic": "complaints",
    }
    if file is not None:
        fields["file"] = file
    return fields | extra


def wav(recordings: Path, call: str) -> str:
    name = f"{call}-rec1.wav"
    (recordings / name).write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    return name


async def complaint_of(
    sessions: async_sessionmaker[AsyncSession], call: str
) -> tuple[Complaint, list[ComplaintEvent], str]:
    async with sessions() as session:
        complaint = await session.scalar(
            select(Complaint).where(Complaint.idempotency_key == idempotency_key(call))
        )
        assert complaint is not None, f"no complaint for call {call}"
        events = list(
            await session.scalars(
                select(ComplaintEvent)
                .where(ComplaintEvent.complaint_id == complaint.id)
                .order_by(ComplaintEvent.id)
            )
        )
        agency = await session.get(Agency, complaint.agency_id)
        assert agency is not None
        return complaint, events, agency.code


async def _registered(sessions: async_sessionmaker[AsyncSession], call: str) -> bool:
    return await count_for(sessions, call) == 1


async def count_for(sessions: async_sessionmaker[AsyncSession], call: str) -> int:
    async with sessions() as session:
        rows = await session.scalars(
            select(Complaint.id).where(Complaint.idempotency_key == idempotency_key(call))
        )
        return len(list(rows))


def test_entries_read_as_messages() -> None:
    entry = Entry(IVR_OUTCOMES, "1-0", recorded("c1", file="c1-rec1.wav"))
    message = message_of(entry)
    assert message is not None
    assert (message.call_id, message.kind, message.file) == ("c1", "complaint", "c1-rec1.wav")
    assert (message.caller, message.topic, message.duration) == ("79231234567", "complaints", 42)
    callback = Entry(IVR_OUTCOMES, "2-0", {"call_id": "c2", "kind": "callback", "number": "1"})
    assert message_of(callback) is None
    sneaky = message_of(Entry(IVR_OUTCOMES, "3-0", recorded("c3", file="../../etc/passwd")))
    assert sneaky is not None and sneaky.file is None
    anonymous = message_of(Entry(IVR_OUTCOMES, "4-0", {"kind": "message", "caller": ""}))
    assert anonymous is not None
    assert (anonymous.call_id, anonymous.caller, anonymous.duration) == ("entry-4-0", "", None)
    assert len(idempotency_key("x" * 300)) <= 100
    assert idempotency_key("x" * 300) != idempotency_key("x" * 299)


async def test_recorded_message_registered_with_its_recording(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    call = call_id()
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, recorded(call, file=wav(intake.recordings, call)))
    assert await intake.round(block_ms=None) == (1, 0)
    complaint, events, office = await complaint_of(sessions, call)
    assert (complaint.source, complaint.phone) == ("voicemail", "79231234567")
    assert complaint.recording == f"{call}-rec1.wav"
    assert (complaint.created_by, complaint.created_by_id) == (VOICE_ACTOR, None)
    # No service or municipality in a voice message: the centre's MFC office takes it.
    assert (office, complaint.agency_chosen_by) == ("mfc-kem-leninsky", "directory")
    assert [e.event for e in events][:2] == ["registered", "forwarded"]
    assert events[0].actor == VOICE_ACTOR
    assert events[0].note == f"voice menu, call {call}"
    async with sessions() as session:
        audit = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "complaints.register",
                AuditEntry.subject_id == complaint.number,
            )
        )
    assert audit is not None
    assert (audit.actor, audit.actor_id) == (VOICE_ACTOR, None)
    assert audit.details["call_id"] == call and audit.details["recording_missing"] is False
    assert await streams.pending_count(IVR_OUTCOMES, GROUP) == 0


async def test_missing_file_is_registered_and_flagged(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    never_copied, absent = call_id(), call_id()
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, recorded(never_copied, file=None))
    await streams.add(IVR_OUTCOMES, recorded(absent, file=f"{absent}-rec1.wav"))
    assert await intake.round(block_ms=None) == (2, 0)
    for call in (never_copied, absent):
        complaint, events, _office = await complaint_of(sessions, call)
        assert complaint.recording is None
        assert complaint.text == MISSING_TEXT
        assert events[0].note == f"voice menu, call {call}; recording missing"


async def test_callbacks_and_unknown_kinds_are_acknowledged_and_skipped(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    call = call_id()
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, {"call_id": call, "kind": "callback", "number": "79230001122"})
    await streams.add(IVR_OUTCOMES, {"call_id": call, "kind": "survey"})
    assert await intake.round(block_ms=None) == (2, 0)
    assert await count_for(sessions, call) == 0
    assert await streams.pending_count(IVR_OUTCOMES, GROUP) == 0


async def test_redelivery_and_repeats_register_once(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A worker that died after its commit and before its ack leaves the entry pending: the
    next round finds the complaint by its key. The bridge repeating the entry is the same."""
    call = call_id()
    fields = recorded(call, file=wav(intake.recordings, call))
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, fields)
    [entry] = await streams.read(IVR_OUTCOMES, GROUP, "test", block_ms=None)
    message = message_of(entry)
    assert message is not None
    # The commit of the dead worker, without its ack:
    async with transaction(sessions) as session:
        number, new = await register_message(
            session, message, now=intake.clock(), config=intake.config, recordings=intake.recordings
        )
    assert new
    assert await streams.pending_count(IVR_OUTCOMES, GROUP) == 1
    await streams.add(IVR_OUTCOMES, fields)  # and a repeat by the bridge
    assert await intake.round(block_ms=None) == (2, 0)
    assert await count_for(sessions, call) == 1
    complaint, _events, _office = await complaint_of(sessions, call)
    assert complaint.number == number
    assert await streams.pending_count(IVR_OUTCOMES, GROUP) == 0


async def test_concurrent_intakes_register_once(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    call = call_id()
    fields = recorded(call, file=wav(intake.recordings, call))
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    for _ in range(4):
        await streams.add(IVR_OUTCOMES, fields)
    other = VoiceIntake(
        streams=streams,
        sessions=sessions,
        config=intake.config,
        recordings=intake.recordings,
        consumer="other",
    )
    first = await streams.read(IVR_OUTCOMES, GROUP, "test", count=2, block_ms=None)
    second = await streams.read(IVR_OUTCOMES, GROUP, "other", count=2, block_ms=None)
    results = await asyncio.gather(
        *(intake.handle(e) for e in first), *(other.handle(e) for e in second)
    )
    assert results == [True] * 4
    assert await count_for(sessions, call) == 1


@pytest.mark.parametrize(
    ("topic", "configured", "office", "chosen_by"),
    [
        ("social", {}, "uszn-kem-central", "directory"),
        ("passports", {}, "ovm-kem-zavodsky", "directory"),
        ("housing", {}, "mfc-kem-leninsky", "mfc"),  # no housing office in Kemerovo
        ("social", {"social": "uszn-nkz-central"}, "uszn-nkz-central", "voice_topic"),
        ("complaints", {"*": "adm-kem-city"}, "adm-kem-city", "voice_topic"),
        ("social", {"social": "no-such-office"}, "uszn-kem-central", "directory"),
    ],
)
async def test_topic_chooses_the_office(
    intake: VoiceIntake,
    streams: Streams,
    sessions: async_sessionmaker[AsyncSession],
    topic: str,
    configured: dict[str, str],
    office: str,
    chosen_by: str,
) -> None:
    intake.config = ComplaintSettings(voice_complaint_agencies=configured)
    call = call_id()
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, recorded(call, file=None, topic=topic))
    assert await intake.round(block_ms=None) == (1, 0)
    complaint, _events, code = await complaint_of(sessions, call)
    assert (code, complaint.agency_chosen_by) == (office, chosen_by)


async def test_unknown_municipality_falls_back_to_an_mfc_office(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    intake.config = ComplaintSettings(voice_complaint_municipality="Нигде")
    call = call_id()
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, recorded(call, file=None, topic="social"))
    assert await intake.round(block_ms=None) == (1, 0)
    complaint, _events, code = await complaint_of(sessions, call)
    async with sessions() as session:
        kind = await session.scalar(select(Agency.kind).where(Agency.code == code))
    assert (kind, complaint.agency_chosen_by) == ("mfc", "mfc")


async def test_complaints_worker_runs_the_intake(
    settings: Settings,
    redis_url: str,
    recordings: Path,
    sessions: async_sessionmaker[AsyncSession],
    seeded: None,
) -> None:
    centre = f"voice-{secrets.token_hex(4)}"
    local = settings.model_copy(update={"centre_id": centre})
    client = create_redis(redis_url)
    streams = Streams(client, local.stream_prefix())
    call = call_id()
    stop = asyncio.Event()
    try:
        await streams.add(IVR_OUTCOMES, recorded(call, file=wav(recordings, call)))
        worker = asyncio.create_task(
            run_worker(
                local,
                database_url=settings.database_url or "",
                redis_url=redis_url,
                stop=stop,
                interval=0.1,
            )
        )
        await eventually(lambda: _registered(sessions, call), within=20)
        stop.set()
        async with asyncio.timeout(10):
            await worker
        assert await streams.pending_count(IVR_OUTCOMES, GROUP) == 0
    finally:
        stop.set()
        keys = [key async for key in client.scan_iter(match=f"{local.stream_prefix()}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_a_message_waits_while_the_database_is_down(
    intake: VoiceIntake, streams: Streams, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Nothing is acknowledged before it is stored: with PostgreSQL unreachable the entry
    stays pending through several rounds, and is registered once the database is back."""
    call = call_id()
    await streams.ensure_group(IVR_OUTCOMES, GROUP)
    await streams.add(IVR_OUTCOMES, recorded(call, file=wav(intake.recordings, call)))
    engine = create_engine("postgresql://postgres@127.0.0.1:9/nowhere", pool_size=1)
    down = VoiceIntake(
        streams=streams,
        sessions=session_factory(engine),
        config=intake.config,
        recordings=intake.recordings,
        consumer=intake.consumer,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(down.run(stop, retry_after=0.05))
    try:
        await eventually(lambda: _pending(streams), within=10)
        await asyncio.sleep(0.3)  # several failed rounds
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
        await engine.dispose()
    assert await count_for(sessions, call) == 0
    assert await streams.pending_count(IVR_OUTCOMES, GROUP) == 1
    assert await intake.round(block_ms=None) == (1, 0)
    assert await count_for(sessions, call) == 1


async def _pending(streams: Streams) -> bool:
    return await streams.pending_count(IVR_OUTCOMES, GROUP) == 1
