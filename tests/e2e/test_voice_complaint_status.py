"""End to end over real sockets: the status of a complaint asked for in the voice menu.

Fake PBX → bridge (menus on) → the complaints service's `POST /complaints/status`, with real
Redis and PostgreSQL: the caller's own number is the second factor first, typed digits next.
"""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path

import pytest

from fakepbx.pbx import FakePbx
from services.common.db import create_engine, session_factory, transaction
from services.common.settings import Settings
from services.common.streams import Entry
from services.complaints.config import ComplaintSettings
from services.complaints.voice import message_of, register_message
from services.ivr.streams import IVR_OUTCOMES
from tests.conftest import ServiceStarter
from tests.e2e.test_call_flow import centre
from tests.e2e.test_voice_menus import MAIN_DID, ear, pbx, prompt

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

__all__ = ["pbx"]


def status_centre(settings: Settings, fake: FakePbx, folder: Path, complaints_url: str) -> Settings:
    bridge_config = folder / "bridge.yaml"
    flows = Path(__file__).resolve().parents[2] / "ivr_scripts"
    bridge_config.write_text(
        f"menus: true\n"
        f"ivr_folder: {flows}\n"
        f"sounds_dir: {folder / 'sounds'}\n"
        f"knowledge_url: http://127.0.0.1:9\n"
        f"complaints_url: {complaints_url}\n"
        f"timer_scale: 0.25\n",
        encoding="utf-8",
    )
    return settings.model_copy(
        update={
            "centre_id": f"st-{secrets.token_hex(4)}",
            "ari_url": f"{fake.ari_url}/ari",
            "ami_port": fake.ami_port,
            "bridge_config": bridge_config,
        }
    )


async def left_from(settings: Settings, phone: str) -> str:
    """A voice complaint left earlier from ``phone``, registered as the intake does it."""
    entry = Entry(
        IVR_OUTCOMES, "1-0", {"call_id": secrets.token_hex(6), "kind": "complaint", "caller": phone}
    )
    message = message_of(entry)
    assert message is not None
    engine = create_engine(settings.database_url or "", pool_size=1)
    try:
        async with transaction(session_factory(engine)) as session:
            number, _new = await register_message(
                session,
                message,
                now=dt.datetime.now(dt.UTC),
                config=ComplaintSettings(),
                recordings=settings.data_dir / "recordings",
            )
    finally:
        await engine.dispose()
    return number


async def test_status_of_a_complaint_by_voice(
    pbx: FakePbx, settings: Settings, tmp_path: Path, service_url: ServiceStarter
) -> None:
    local = status_centre(settings, pbx, tmp_path, await service_url("complaints"))
    number = await left_from(settings, "79130000031")
    async with centre(local), ear(pbx) as heard:
        own = pbx.control.inject_call(did=MAIN_DID, caller="+79130000031")
        other = pbx.control.inject_call(did=MAIN_DID, caller="+79130000032")
        for call in (own, other):
            await heard.hears(call, prompt("main", "topic_menu"))
            await pbx.control.press(call.handset_id, "7")
            await heard.hears(call, prompt("main", "complaint_menu"))
            await pbx.control.press(call.handset_id, "3")
            await heard.hears(call, prompt("main", "complaint_number"))
            await pbx.control.press(call.handset_id, number)
        # Found by the caller's own number (the status text itself is heard with espeak-ng).
        await heard.hears(own, prompt("main", "after_status"))
        # Another phone: the digits of the registered one are asked for, and checked.
        await heard.hears(other, prompt("main", "complaint_phone"))
        await pbx.control.press(other.handset_id, "0000")
        await heard.hears(other, prompt("main", "complaint_status_unknown"))
        await heard.hears(other, prompt("main", "after_status"))
    heard_own = [first for first, _next in heard.heard[own.channel_id]]
    assert prompt("main", "complaint_phone") not in heard_own
    assert prompt("main", "complaint_status_unavailable") not in heard_own
