"""The bridge service's own I/O against the fake PBX's ARI and a real Redis: voice messages
copied out of Asterisk (the file first, then the `ivr-outcomes` entry; a file that cannot be
had leaves the entry without `file` rather than losing the message), and an originate that
Asterisk refuses ending its leg at once."""

from __future__ import annotations

import secrets
import wave
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge import service as bridge_service
from ari_bridge.ari_client import AriClient
from ari_bridge.config import BridgeConfig
from ari_bridge.service import BridgeService
from fakepbx.pbx import FakePbx, PbxOptions
from services.acd import commands as c
from services.acd import events as r
from services.common.redis_client import create_redis
from services.common.streams import Streams
from services.ivr.streams import IVR_OUTCOMES
from services.router.wire import EVENTS, event_from_fields

pytestmark = pytest.mark.integration


@pytest.fixture
async def pbx() -> AsyncIterator[FakePbx]:
    async with FakePbx.start(options=PbxOptions(speed=10.0)) as fake:
        yield fake
        assert fake.errors == []


@pytest.fixture
async def service(
    pbx: FakePbx, redis_url: str, redis_prefix: str, tmp_path: Path
) -> AsyncIterator[BridgeService]:
    client = create_redis(redis_url)
    config = BridgeConfig(menus=False, recordings_dir=tmp_path / "recordings")
    async with AriClient.open(
        f"{pbx.ari_url}/ari", username="okno", password="okno", app="okno"
    ) as ari:
        yield BridgeService(
            config=config,
            ari=ari,
            events_url=pbx.events_url,
            ari_user="okno",
            ari_password="okno",
            streams=Streams(client, f"{redis_prefix}:{secrets.token_hex(4)}"),
            consumer="test",
        )
    await client.aclose()


def save(name: str) -> a.SaveRecording:
    fields = {"call_id": "c1", "kind": "complaint", "recording": name, "caller": "+7913"}
    return a.SaveRecording(name, IVR_OUTCOMES, fields)


async def entries(service: BridgeService) -> list[dict[str, str]]:
    client = service.streams.client
    return [fields for _id, fields in await client.xrange(service.streams.key(IVR_OUTCOMES))]


async def test_a_message_is_copied_then_noted_and_asterisks_copy_deleted(
    pbx: FakePbx, service: BridgeService, tmp_path: Path
) -> None:
    pbx.engine.stored_recordings["c1-rec1"] = "wav"
    pbx.engine.recording_seconds["c1-rec1"] = 3
    await service._save_recording(save("c1-rec1"))
    (entry,) = await entries(service)
    assert entry["file"] == "c1-rec1.wav" and entry["kind"] == "complaint"
    with wave.open(str(tmp_path / "recordings" / "c1-rec1.wav"), "rb") as wav:
        assert wav.getnframes() == 3 * 8000
    assert not list((tmp_path / "recordings").glob("*.part"))
    assert "c1-rec1" not in pbx.engine.stored_recordings


async def test_a_message_whose_file_cannot_be_had_is_noted_without_it(
    service: BridgeService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bridge_service, "_SAVE_RETRY_S", 0.01)
    await service._save_recording(save("never-recorded"))
    (entry,) = await entries(service)
    assert "file" not in entry and entry["recording"] == "never-recorded"
    assert not (tmp_path / "recordings").exists() or not any((tmp_path / "recordings").iterdir())


async def test_a_message_waits_out_a_redis_outage_and_is_still_noted(
    pbx: FakePbx, service: BridgeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file is copied; Redis then refuses twice (a restart): the entry is written once it
    is back, and the error never reaches the bridge's task group."""
    monkeypatch.setattr(bridge_service, "_SAVE_RETRY_S", 0.01)
    pbx.engine.stored_recordings["c1-rec2"] = "wav"
    pbx.engine.recording_seconds["c1-rec2"] = 1
    add, refusals = service.streams.add, [RedisConnectionError("Redis restarting")] * 2

    async def flaky_add(stream: str, fields: dict[str, str]) -> str:
        if refusals:
            raise refusals.pop()
        return await add(stream, fields)

    monkeypatch.setattr(service.streams, "add", flaky_add)
    await service._save_recording(save("c1-rec2"))
    (entry,) = await entries(service)
    assert entry["file"] == "c1-rec2.wav" and refusals == []


async def test_an_originate_asterisk_refuses_is_a_missed_ring_for_the_router(
    service: BridgeService,
) -> None:
    # op1001 has no registered softphone: Asterisk answers the originate with 500.
    arrived = d.CallArrived(call_id="c1", did="88005550100", caller_number="+7913", caller_name="")
    service.controller.on_event(arrived)
    step = service.controller.on_command(c.ConnectAgent(3, "c1", "1001", 15.0, False, 0, 0, 3))
    await service._settle(step, None)
    client = service.streams.client
    told = [event_from_fields(f) for _id, f in await client.xrange(service.streams.key(EVENTS))]
    assert told == [r.AgentNoAnswer("c1", "1001")]
