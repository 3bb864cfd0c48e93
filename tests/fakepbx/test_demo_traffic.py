"""The demo's traffic generator keeps callers and bots busy against a live fake."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fakepbx.demo_traffic import HttpControl, InProcessControl, TrafficGenerator, TrafficProfile
from fakepbx.pbx import FakePbx, PbxOptions
from tests.fakepbx.ari_client import ari_session

pytestmark = pytest.mark.e2e  # real sockets on loopback

PROFILE = TrafficProfile(
    calls_per_minute=120,
    mean_patience_seconds=3.0,
    bot_seats=("op1001", "op1002"),
    human_seats=("op1003",),
    seed=7,
)


async def test_callers_arrive_press_digits_and_give_up() -> None:
    options = PbxOptions(speed=20.0, operators=("op1001", "op1002", "op1003"))
    async with FakePbx.start(options=options) as pbx, ari_session(pbx) as ari:
        generator = TrafficGenerator(InProcessControl(pbx.control), PROFILE, speed=20.0)
        started = await asyncio.wait_for(generator.run(seconds=20.0), 10)
        assert started >= 10
        await ari.wait_for("StasisEnd")
        starts = [e for e in ari.events if e["type"] == "StasisStart"]
        assert len(starts) == started
        assert {e["args"][0] for e in starts} == {"inbound"}
        assert any(e["type"] == "ChannelDtmfReceived" for e in ari.events)
        endpoints = (await ari.client.get("/endpoints")).json()
        online = {
            e["resource"]
            for e in endpoints
            if e["state"] == "online" and e["resource"].startswith("op")
        }
        assert online == {"op1001", "op1002", "op1003"}
        assert pbx.engine.behaviours["op1003"].answers_after is None
        assert pbx.errors == []


async def test_the_generator_drives_a_separate_fake_over_http() -> None:
    async with (
        FakePbx.start(options=PbxOptions(speed=20.0)) as pbx,
        httpx.AsyncClient(base_url=pbx.ari_url, auth=("okno", "okno")) as client,
    ):
        generator = TrafficGenerator(HttpControl(client), PROFILE, speed=20.0)
        started = await asyncio.wait_for(generator.run(seconds=10.0), 10)
        assert started >= 3
        assert pbx.engine.endpoints["op1001"].online
