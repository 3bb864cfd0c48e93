"""The production-like world: DIDs into Stasis, operator seats on PJSIP, simulated callers."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from fakepbx.pbx import FakePbx
from tests.fakepbx.ari_client import AriSession, ari_session
from tests.fakepbx.swagger import Models

pytestmark = pytest.mark.e2e  # real sockets on loopback

DID = "88005550100"


async def _caller_in_stasis(pbx: FakePbx, ari: AriSession) -> tuple[str, str]:
    call = await pbx.inject_call(DID, "+79130000001", "Иван")
    await ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == call.channel_id)
    return call.handset_id, call.channel_id


async def test_a_did_enters_stasis_with_its_number(pbx: FakePbx, models: Models) -> None:
    async with ari_session(pbx) as ari:
        handset, caller = await _caller_in_stasis(pbx, ari)
        start = await ari.wait_for("StasisStart")
        assert start["args"] == ["inbound", DID]
        assert start["channel"]["name"].startswith(f"Local/{DID}@from-pstn-")
        assert start["channel"]["caller"] == {"name": "Иван", "number": "+79130000001"}
        assert start["channel"]["dialplan"]["app_data"] == f"okno,inbound,{DID}"
        await pbx.press(handset, "12#")
        await ari.wait_for("ChannelDtmfReceived", lambda e: e["digit"] == "#")
        digits = [e["digit"] for e in ari.events if e["type"] == "ChannelDtmfReceived"]
        assert digits == ["1", "2", "#"]
        await pbx.hangup_handset(handset)
        await ari.wait_for("StasisEnd")
        assert ari.of_channel(caller)[-2:] == ["ChannelHangupRequest", "StasisEnd"]
        assert all(models.validate_event(e) == [] for e in ari.events)


async def test_an_operator_answers_talks_and_hangs_up(pbx: FakePbx, models: Models) -> None:
    pbx.register("op1001")
    pbx.set_operator("op1001", answers_after=0.5, hangs_up_after=1.0)
    async with ari_session(pbx) as ari:
        _, caller = await _caller_in_stasis(pbx, ari)
        bridge = (await ari.client.post("/bridges", params={"type": "mixing"})).json()
        await ari.client.post(f"/bridges/{bridge['id']}/addChannel", params={"channel": caller})
        leg = (
            await ari.client.post(
                "/channels",
                params={
                    "endpoint": "PJSIP/op1001",
                    "app": "okno",
                    "appArgs": "agent,op1001",
                    "callerId": '"Очередь" <100>',
                    "timeout": "10",
                },
            )
        ).json()
        assert leg["state"] == "Down" and leg["name"].startswith("PJSIP/op1001-")
        start = await ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == leg["id"])
        assert start["args"] == ["agent", "op1001"]
        await ari.client.post(f"/bridges/{bridge['id']}/addChannel", params={"channel": leg["id"]})
        await ari.wait_for("ChannelDestroyed", lambda e: e["channel"]["id"] == leg["id"])
        assert ari.of_channel(leg["id"]) == [
            "Dial",
            "ChannelStateChange",
            "Dial",
            "ChannelStateChange",
            "Dial",
            "ChannelVarset",
            "StasisStart",
            "ChannelEnteredBridge",
            "ChannelVarset",
            "ChannelConnectedLine",
            "ChannelHangupRequest",
            "ChannelVarset",
            "ChannelLeftBridge",
            "StasisEnd",
            "ChannelVarset",
            "ChannelDestroyed",
        ]
        statuses = [e["dialstatus"] for e in ari.events if e["type"] == "Dial"]
        assert statuses == ["", "RINGING", "ANSWER"]
        endpoint = (await ari.client.get("/endpoints/PJSIP/op1001")).json()
        assert endpoint == {
            "technology": "PJSIP",
            "resource": "op1001",
            "state": "online",
            "channel_ids": [],
        }
        assert all(models.validate_event(e) == [] for e in ari.events)


async def test_an_operator_who_never_answers_times_out_with_cause_19(pbx: FakePbx) -> None:
    pbx.register("op1002")
    pbx.set_operator("op1002", answers_after=None)
    async with ari_session(pbx) as ari:
        leg = (
            await ari.client.post(
                "/channels", params={"endpoint": "PJSIP/op1002", "app": "okno", "timeout": "3"}
            )
        ).json()
        destroyed = await ari.wait_for("ChannelDestroyed")
        assert (destroyed["cause"], destroyed["cause_txt"]) == (19, "User alerting, no answer")
        assert "StasisStart" not in ari.of_channel(leg["id"])
        assert [e["dialstatus"] for e in ari.events if e["type"] == "Dial"] == ["", "RINGING"]


async def test_cancelling_a_ringing_operator_reports_noanswer(pbx: FakePbx) -> None:
    pbx.register("op1002")
    pbx.set_operator("op1002", answers_after=None)
    async with ari_session(pbx) as ari:
        leg = (
            await ari.client.post(
                "/channels", params={"endpoint": "PJSIP/op1002", "app": "okno", "timeout": "30"}
            )
        ).json()
        await ari.wait_for("Dial", lambda e: e["dialstatus"] == "RINGING")
        assert (await ari.client.delete(f"/channels/{leg['id']}")).status_code == 204
        destroyed = await ari.wait_for("ChannelDestroyed")
        assert destroyed["cause"] == 16
        assert ari.of_channel(leg["id"])[-3:] == [
            "ChannelHangupRequest",
            "Dial",
            "ChannelDestroyed",
        ]


async def test_an_unregistered_seat_cannot_be_called(pbx: FakePbx) -> None:
    async with ari_session(pbx) as ari:
        response = await ari.client.post(
            "/channels", params={"endpoint": "PJSIP/op1003", "app": "okno"}
        )
        assert response.status_code == 500
        assert response.json() == {"message": "Allocation failed"}


async def test_registration_is_reported_to_subscribed_apps(pbx: FakePbx) -> None:
    async with ari_session(pbx) as ari:
        subscribed = await ari.client.post(
            "/applications/okno/subscription",
            params={"eventSource": "endpoint:PJSIP/op1003,deviceState:PJSIP/op1003"},
        )
        assert subscribed.json()["endpoint_ids"] == ["PJSIP/op1003"]
        pbx.register("op1003")
        pbx.unregister("op1003")
        await ari.wait_for(
            "ContactStatusChange", lambda e: e["contact_info"]["contact_status"] == "Removed"
        )
        assert [e["type"] for e in ari.events] == [
            "DeviceStateChanged",
            "EndpointStateChange",
            "PeerStatusChange",
            "ContactStatusChange",
            "EndpointStateChange",
            "DeviceStateChanged",
            "PeerStatusChange",
            "ContactStatusChange",
        ]


async def test_wrong_credentials_are_refused(pbx: FakePbx) -> None:
    url = pbx.events_url.replace("api_key=okno:okno", "api_key=okno:wrong")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url):
            pass
    assert refused.value.response.status_code == 401
    async with httpx.AsyncClient(base_url=pbx.ari_url) as client:
        response = await client.get("/ari/channels", auth=("okno", "wrong"))
        assert response.status_code == 401


async def test_continue_overflows_a_caller_to_a_neighbouring_centre(pbx: FakePbx) -> None:
    async with ari_session(pbx) as ari:
        handset, caller = await _caller_in_stasis(pbx, ari)
        moved = await ari.client.post(
            f"/channels/{caller}/continue",
            params={"context": "to-neighbour-west", "extension": "88005550777", "priority": "1"},
        )
        assert moved.status_code == 204
        await ari.wait_for("StasisEnd")
        channels = (await ari.client.get("/channels")).json()
        names = sorted(c["name"].split("-")[0] for c in channels)
        assert any(name.startswith("PJSIP/neighbour") for name in names)
        me = (await ari.client.get(f"/channels/{caller}")).json()
        assert (me["dialplan"]["context"], me["dialplan"]["app_name"]) == (
            "to-neighbour-west",
            "Dial",
        )
        await pbx.hangup_handset(handset)
        for _ in range(100):
            if not (await ari.client.get("/channels")).json():
                break
            await asyncio.sleep(0.01)
        assert (await ari.client.get("/channels")).json() == []
        assert ari.of_channel(caller)[-1] == "StasisEnd"


async def test_without_a_connected_app_the_call_falls_through_and_ends(pbx: FakePbx) -> None:
    call = await pbx.inject_call(DID, "+79130000004")
    for _ in range(100):
        if call.channel_id not in pbx.engine.channels:
            break
        await asyncio.sleep(0.01)
    assert call.channel_id not in pbx.engine.channels
    assert call.handset_id not in pbx.engine.channels


async def test_a_human_seat_answers_and_hangs_up_on_command(pbx: FakePbx) -> None:
    pbx.register("op1002")
    pbx.set_operator("op1002", answers_after=None)
    async with ari_session(pbx) as ari:
        leg = (
            await ari.client.post(
                "/channels", params={"endpoint": "PJSIP/op1002", "app": "okno", "timeout": "30"}
            )
        ).json()
        await ari.wait_for("Dial", lambda e: e["dialstatus"] == "RINGING")
        assert pbx.operator_answer("op1002") == 1
        await ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == leg["id"])
        assert pbx.operator_hangup("op1002") == 1
        destroyed = await ari.wait_for("ChannelDestroyed")
        assert destroyed["cause"] == 16
        assert ari.of_channel(leg["id"])[-4:] == [
            "ChannelHangupRequest",
            "StasisEnd",
            "ChannelVarset",
            "ChannelDestroyed",
        ]


async def test_a_hangup_reason_sets_the_destroy_cause(pbx: FakePbx) -> None:
    pbx.register("op1001")
    pbx.set_operator("op1001", answers_after=0.1)
    async with ari_session(pbx) as ari:
        leg = (
            await ari.client.post("/channels", params={"endpoint": "PJSIP/op1001", "app": "okno"})
        ).json()
        await ari.wait_for("StasisStart")
        bad = await ari.client.delete(f"/channels/{leg['id']}", params={"reason": "sleepy"})
        assert bad.status_code == 400
        busy = await ari.client.delete(f"/channels/{leg['id']}", params={"reason": "busy"})
        assert busy.status_code == 204
        request = await ari.wait_for("ChannelHangupRequest")
        destroyed = await ari.wait_for("ChannelDestroyed")
        assert (request["cause"], request["soft"]) == (32, True)
        assert (destroyed["cause"], destroyed["cause_txt"]) == (17, "User busy")
