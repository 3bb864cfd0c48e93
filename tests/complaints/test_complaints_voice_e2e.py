"""End to end over real sockets: a voice complaint left in the menu is registered.

Fake PBX → bridge (menus on; it copies the recording into the recordings folder and writes the
`ivr-outcomes` entry) → the complaints worker's intake → PostgreSQL, with real Redis.
"""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from fakepbx.pbx import FakePbx
from services.common.db import create_engine, session_factory
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.complaints.config import ComplaintSettings
from services.complaints.models import Complaint, ComplaintEvent
from services.complaints.voice import GROUP, VOICE_ACTOR, VoiceIntake, idempotency_key
from services.ivr.streams import IVR_OUTCOMES
from tests.e2e.test_call_flow import centre, wait_for
from tests.e2e.test_voice_menus import MAIN_DID, ear, pbx, prompt

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

__all__ = ["pbx"]


def voice_centre(settings: Settings, fake: FakePbx, folder: Path, recordings: Path) -> Settings:
    """Its own centre; the bridge copies recordings where the complaints worker reads them."""
    bridge_config = folder / "bridge.yaml"
    flows = Path(__file__).resolve().parents[2] / "ivr_scripts"
    bridge_config.write_text(
        f"menus: true\n"
        f"ivr_folder: {flows}\n"
        f"sounds_dir: {folder / 'sounds'}\n"
        f"knowledge_url: http://127.0.0.1:9\n"
        f"recordings_dir: {recordings}\n"
        f"timer_scale: 0.25\n",
        encoding="utf-8",
    )
    return settings.model_copy(
        update={
            "centre_id": f"cmp-{secrets.token_hex(4)}",
            "ari_url": f"{fake.ari_url}/ari",
            "ami_port": fake.ami_port,
            "bridge_config": bridge_config,
        }
    )


async def test_a_voice_complaint_is_registered_with_its_recording(
    pbx: FakePbx, settings: Settings, tmp_path: Path, seeded: None
) -> None:
    recordings = tmp_path / "recordings"
    local = voice_centre(settings, pbx, tmp_path, recordings)
    client = create_redis(settings.redis_url or "")
    engine = create_engine(settings.database_url or "", pool_size=2)
    sessions = session_factory(engine)
    intake = VoiceIntake(
        streams=Streams(client, local.stream_prefix()),
        sessions=sessions,
        config=ComplaintSettings(),
        recordings=recordings,
        consumer="e2e",
    )
    try:
        await intake.streams.ensure_group(IVR_OUTCOMES, GROUP)
        async with centre(local), ear(pbx) as heard:
            call = pbx.control.inject_call(did=MAIN_DID, caller="+79130000033")
            await heard.hears(call, prompt("main", "topic_menu"))
            await pbx.control.press(call.handset_id, "7")
            await heard.hears(call, prompt("main", "complaint_menu"))
            await pbx.control.press(call.handset_id, "1")
            await heard.hears(call, prompt("main", "complaint_record"))

            async def recording() -> bool:
                return bool(pbx.engine.live_recordings)

            await wait_for(recording)
            await asyncio.sleep(1.5)  # a few seconds of the fake's clock: not an empty message
            await pbx.control.press(call.handset_id, "#")
            await heard.hears(call, prompt("main", "complaint_recorded"))

            async def registered() -> Complaint | None:
                await intake.round(block_ms=None)
                async with sessions() as session:
                    return await session.scalar(
                        select(Complaint).where(
                            Complaint.idempotency_key == idempotency_key(call.channel_id)
                        )
                    )

            complaint = await wait_for(registered, within=20.0)
        assert (complaint.source, complaint.phone) == ("voicemail", "79130000033")
        assert complaint.created_by == VOICE_ACTOR
        assert complaint.recording is not None
        audio = (recordings / complaint.recording).read_bytes()
        assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
        async with sessions() as session:
            note = await session.scalar(
                select(ComplaintEvent.note).where(
                    ComplaintEvent.complaint_id == complaint.id,
                    ComplaintEvent.event == "registered",
                )
            )
        assert note == f"voice menu, call {call.channel_id}"  # not flagged: the file is there
        assert await intake.streams.pending_count(IVR_OUTCOMES, GROUP) == 0
    finally:
        await client.aclose()
        await engine.dispose()
