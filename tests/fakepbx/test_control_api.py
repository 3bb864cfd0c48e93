"""The HTTP control API drives the same world as the Python API (for ``okno fakepbx``)."""

from __future__ import annotations

import httpx
import pytest

from fakepbx.pbx import FakePbx
from tests.fakepbx.ari_client import ari_session

pytestmark = pytest.mark.e2e  # real sockets on loopback


async def test_callers_and_operators_are_driven_over_http(pbx: FakePbx) -> None:
    async with (
        ari_session(pbx) as ari,
        httpx.AsyncClient(base_url=pbx.ari_url + "/fakepbx", auth=("okno", "okno")) as control,
    ):
        assert (await control.post("/operators/op1001/registration")).status_code == 204
        assert (
            await control.put("/operators/op1001", json={"answers_after": 0.2})
        ).status_code == 204
        call = (
            await control.post("/calls", json={"did": "88005550101", "caller": "+79130000003"})
        ).json()
        await ari.wait_for("StasisStart", lambda e: e["channel"]["id"] == call["channel_id"])
        pressed = await control.post(f"/calls/{call['handset_id']}/dtmf", json={"digits": "7"})
        assert pressed.status_code == 204
        assert (await ari.wait_for("ChannelDtmfReceived"))["digit"] == "7"
        assert (await control.delete(f"/calls/{call['handset_id']}")).status_code == 204
        await ari.wait_for("StasisEnd")
        endpoint = (await ari.client.get("/endpoints/PJSIP/op1001")).json()
        assert endpoint["state"] == "online"
        bad = await control.post("/calls/x/dtmf", json={"digits": "not digits"})
        assert bad.status_code == 422
        missing = await control.delete("/calls/nope")
        assert (missing.status_code, missing.json()) == (404, {"message": "Channel not found"})
