"""The AMI side speaks the recorded line protocol."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from panoramisk import Manager

from fakepbx.pbx import FakePbx
from tests.fakepbx.ari_client import ari_session
from tests.fakepbx.shared import TRACES

pytestmark = pytest.mark.e2e  # real sockets on loopback


def _blocks(text: str) -> list[dict[str, str]]:
    blocks = []
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in chunk.split("\n") if ": " in line or line.endswith(":")]
        if lines:
            blocks.append({k: v for k, _, v in (line.partition(": ") for line in lines)})
    return blocks


class AmiClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def send(self, **headers: str) -> None:
        self.writer.write("".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode() + b"\r\n")
        await self.writer.drain()

    async def block(self) -> dict[str, str]:
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 5)
        return _blocks(raw.decode())[0]

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def until(self, key: str, value: str) -> list[dict[str, str]]:
        seen = []
        while not seen or seen[-1].get(key) != value:
            seen.append(await self.block())
        return seen


@contextlib.asynccontextmanager
async def _connected(pbx: FakePbx) -> AsyncIterator[AmiClient]:
    reader, writer = await asyncio.open_connection("127.0.0.1", pbx.ami_port)
    client = AmiClient(reader, writer)
    try:
        yield client
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def _login(pbx: FakePbx) -> AsyncIterator[AmiClient]:
    async with _connected(pbx) as client:
        await _log_in(client)
        yield client


async def _log_in(client: AmiClient) -> None:
    reader = client.reader
    assert await reader.readline() == b"Asterisk Call Manager/11.0.0\r\n"
    await client.send(Action="Login", ActionID="login", Username="okno", Secret="okno", Events="on")
    assert await client.block() == {
        "Response": "Success",
        "ActionID": "login",
        "Message": "Authentication accepted",
    }
    booted = await client.block()
    assert booted["Event"] == "FullyBooted" and "Timestamp" not in booted
    assert (await client.block())["Event"] == "SuccessfulAuth"


async def test_login_ping_and_logoff(pbx: FakePbx) -> None:
    async with _login(pbx) as client:
        await client.send(Action="Ping", ActionID="p1")
        pong = await client.block()
        assert (pong["Response"], pong["Ping"]) == ("Success", "Pong")
        await client.send(Action="Logoff", ActionID="logoff")
        assert await client.block() == {
            "Response": "Goodbye",
            "ActionID": "logoff",
            "Message": "Thanks for all the fish.",
        }
        assert await client.reader.read() == b""


async def test_a_wrong_secret_is_refused(pbx: FakePbx) -> None:
    async with _connected(pbx) as client:
        await client.reader.readline()
        await client.send(Action="Login", Username="okno", Secret="nope")
        assert (await client.block())["Response"] == "Error"
        await client.send(Action="Ping")
        assert (await client.block())["Message"] == "Authentication Required"


async def test_registration_events_and_lists_match_the_recording(pbx: FakePbx) -> None:
    recorded = _blocks((TRACES / "sip_registration_ami.ami.txt").read_text())
    async with _login(pbx) as client:
        pbx.register("op1001")
        got = [await client.block() for _ in range(5)]
        wanted = [
            b
            for b in recorded
            if b.get("Event")
            in {
                "ChallengeSent",
                "SuccessfulAuth",
                "DeviceStateChange",
                "PeerStatus",
                "ContactStatus",
            }
            and b.get("Privilege")
        ][1:6]
        assert [b["Event"] for b in got] == [b["Event"] for b in wanted]
        for mine, theirs in zip(got, wanted, strict=True):
            assert list(mine) == list(theirs)
        await client.send(Action="PJSIPShowEndpoints", ActionID="eps")
        listing = await client.until("Event", "EndpointListComplete")
        recorded_listing = [b for b in recorded if b.get("ActionID") == "eps"]
        assert list(listing[1]) == list(recorded_listing[1])
        assert listing[1]["DeviceState"] == "Not in use"
        assert listing[-1]["ListItems"] == str(len(listing) - 2)
        await client.send(Action="PJSIPShowContacts", ActionID="contacts")
        contacts = await client.until("Event", "ContactListComplete")
        assert [b.get("Event") for b in contacts] == [None, "ContactList", "ContactListComplete"]
        await client.send(Action="DeviceStateList", ActionID="devstates")
        states = await client.until("Event", "DeviceStateListComplete")
        assert {
            "Device": "PJSIP/op1001",
            "State": "NOT_INUSE",
            "Event": "DeviceStateChange",
            "ActionID": "devstates",
        } in states


async def test_play_dtmf_on_a_handset_reaches_the_caller(pbx: FakePbx) -> None:
    async with _login(pbx) as client, ari_session(pbx) as ari:
        call = await pbx.inject_call("88005550100", "+79130000002")
        handset_name = pbx.engine.channels[call.handset_id].name
        await client.until("Application", "Stasis")
        await client.send(
            Action="PlayDTMF", ActionID="dtmf-1", Channel=handset_name, Digit="5", Duration="100"
        )
        blocks = await client.until("Event", "DTMFEnd")
        assert {
            "Response": "Success",
            "ActionID": "dtmf-1",
            "Message": "DTMF successfully queued",
        } in blocks
        end = blocks[-1]
        assert (end["Digit"], end["Direction"]) == ("5", "Received")
        assert end["Channel"] == handset_name.replace(";1", ";2")
        received = await ari.wait_for("ChannelDtmfReceived")
        assert (received["digit"], received["channel"]["id"]) == ("5", call.channel_id)


async def test_panoramisk_the_bridges_ami_library_talks_to_the_fake(pbx: FakePbx) -> None:
    pbx.register("op1001")
    seen: list[str] = []
    manager = Manager(
        host="127.0.0.1",
        port=pbx.ami_port,
        username="okno",
        secret="okno",
        ping_delay=0,
        forgetable_actions=("login",),
    )
    manager.register_event("*", lambda _, message: seen.append(message.Event))
    await manager.connect()
    try:
        states = await manager.send_action({"Action": "DeviceStateList"})
        assert {"Device": "PJSIP/op1001", "State": "NOT_INUSE"}.items() <= dict(states[1]).items()
        pong = await manager.send_action({"Action": "Ping"})
        assert pong.Ping == "Pong"
        pbx.register("op1002")
        for _ in range(100):
            if "ContactStatus" in seen:
                break
            await asyncio.sleep(0.01)
        assert seen[-3:] == ["DeviceStateChange", "PeerStatus", "ContactStatus"]
    finally:
        manager.close()
