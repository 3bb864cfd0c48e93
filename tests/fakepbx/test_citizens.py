"""Citizens called back through a trunk (per-number behaviour) and stored recordings' files,
over real sockets, with the event shapes of the API description."""

from __future__ import annotations

import io
import wave

import httpx
import pytest

from fakepbx.pbx import FakePbx
from tests.fakepbx.ari_client import AriSession, ari_session
from tests.fakepbx.swagger import Models

pytestmark = pytest.mark.e2e  # real sockets on loopback


async def _call_out(ari: AriSession, number: str, channel_id: str) -> None:
    reply = await ari.client.post(
        f"/channels/{channel_id}",
        params={
            "endpoint": f"PJSIP/{number}@provider",
            "app": "okno",
            "appArgs": "citizen,cb-1",
            "callerId": "88005550199",
            "timeout": "5",
        },
    )
    assert reply.status_code == 200 and reply.json()["state"] == "Down"


async def test_a_busy_citizen_is_refused_with_cause_17(pbx: FakePbx, models: Models) -> None:
    pbx.set_number("79130000001", busy=True)
    async with ari_session(pbx) as ari:
        await _call_out(ari, "79130000001", "leg-busy")
        gone = await ari.wait_for("ChannelDestroyed", lambda e: e["channel"]["id"] == "leg-busy")
        assert ari.of_channel("leg-busy") == [
            "Dial",
            "ChannelHangupRequest",
            "Dial",
            "ChannelDestroyed",
        ]
        request = next(e for e in ari.events if e["type"] == "ChannelHangupRequest")
        assert request["cause"] == 17 and "soft" not in request
        statuses = [e["dialstatus"] for e in ari.events if e["type"] == "Dial"]
        assert statuses == ["", "BUSY"]
        assert (gone["cause"], gone["cause_txt"]) == (17, "User busy")
        assert all(models.validate_event(e) == [] for e in ari.events)


async def test_a_citizen_who_never_answers_rings_until_the_originate_timeout(
    pbx: FakePbx, models: Models
) -> None:
    pbx.set_number("79130000002", answers_after=None)
    async with ari_session(pbx) as ari:
        await _call_out(ari, "79130000002", "leg-silent")
        gone = await ari.wait_for("ChannelDestroyed", lambda e: e["channel"]["id"] == "leg-silent")
        assert gone["cause"] == 19
        assert "StasisStart" not in ari.of_channel("leg-silent")
        assert all(models.validate_event(e) == [] for e in ari.events)


async def test_a_citizen_who_answers_enters_stasis_and_may_hang_up_at_once(
    pbx: FakePbx, models: Models
) -> None:
    pbx.set_number("79130000003", answers_after=0.5, hangs_up_after=0.1)
    async with ari_session(pbx) as ari:
        await _call_out(ari, "79130000003", "leg-brief")
        start = await ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == "leg-brief")
        assert start["args"] == ["citizen", "cb-1"]
        assert start["channel"]["caller"]["number"] == "88005550199"
        await ari.wait_for("ChannelDestroyed", lambda e: e["channel"]["id"] == "leg-brief")
        request = next(
            e
            for e in ari.events
            if e["type"] == "ChannelHangupRequest" and e["channel"]["id"] == "leg-brief"
        )
        assert request["cause"] == 16 and "soft" not in request  # the far end hung up
        assert all(models.validate_event(e) == [] for e in ari.events)


async def test_the_same_channel_id_cannot_be_dialled_twice_while_it_lives(pbx: FakePbx) -> None:
    pbx.set_number("79130000004", answers_after=None)
    async with ari_session(pbx) as ari:
        await _call_out(ari, "79130000004", "leg-once")
        again = await ari.client.post(
            "/channels/leg-once",
            params={"endpoint": "PJSIP/79130000004@provider", "app": "okno", "timeout": "5"},
        )
        assert again.status_code == 409


async def test_numbers_are_set_through_the_control_api(pbx: FakePbx) -> None:
    async with httpx.AsyncClient(base_url=pbx.ari_url, auth=("okno", "okno")) as client:
        reply = await client.put("/fakepbx/numbers/79130000005", json={"busy": True})
        assert reply.status_code == 204
        bad = await client.put("/fakepbx/numbers/79130000005", json={"answers_after": -1})
        assert bad.status_code == 422
    behaviour = pbx.engine.number_behaviours["79130000005"]
    assert behaviour.busy and behaviour.answers_after == 1.0


async def test_a_stored_recording_is_served_as_a_wav_file(pbx: FakePbx) -> None:
    call = await pbx.inject_call("88005550100", "+79130000006")
    async with ari_session(pbx) as ari:
        await ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == call.channel_id)
        await ari.client.post(
            f"/channels/{call.channel_id}/record",
            params={"name": "msg-1", "format": "wav", "maxDurationSeconds": "2", "beep": "false"},
        )
        await ari.wait_for("RecordingFinished", seconds=5)
        reply = await ari.client.get("/recordings/stored/msg-1/file")
        missing = await ari.client.get("/recordings/stored/nothing/file")
        await ari.client.delete("/recordings/stored/msg-1")
        gone = await ari.client.get("/recordings/stored/msg-1/file")
    assert reply.status_code == 200 and reply.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(reply.content), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (1, 8000, 2)
        assert wav.getnframes() == 2 * 8000
    assert missing.status_code == 404 and gone.status_code == 404
