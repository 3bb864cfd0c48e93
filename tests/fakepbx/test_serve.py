"""``serve`` runs the fake as a long-lived process would, until cancelled."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from fakepbx.pbx import FakePbx, PbxOptions, serve

pytestmark = pytest.mark.e2e  # real sockets on loopback


async def test_serve_registers_every_seat_and_stops_when_cancelled() -> None:
    ready: asyncio.Future[FakePbx] = asyncio.get_running_loop().create_future()
    options = PbxOptions(operators=("op1001", "op1002"), trunks=())
    task = asyncio.get_running_loop().create_task(
        serve("127.0.0.1", 0, 0, options=options, ready=ready)
    )
    pbx = await asyncio.wait_for(ready, 5)
    async with httpx.AsyncClient(base_url=pbx.ari_url, auth=("okno", "okno")) as client:
        endpoints = (await client.get("/ari/endpoints")).json()
        assert {e["resource"]: e["state"] for e in endpoints} == {
            "op1001": "online",
            "op1002": "online",
        }
        ping = (await client.get("/ari/asterisk/ping")).json()
        assert ping["ping"] == "pong"
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    with pytest.raises(OSError):  # the AMI port is closed again
        await asyncio.open_connection("127.0.0.1", pbx.ami_port)
