"""The AMI adapter against a real TCP server on loopback replaying sip_registration_ami."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from bridge_ami_server import AmiReplayServer

from ari_bridge.ami_adapter import AmiAdapter, AmiEvent, AmiSettings, AmiUnavailable
from ari_bridge.backoff import Backoff
from ari_bridge.translate import Translator

FAST = Backoff(initial_s=0.01, factor=2.0, cap_s=0.05)
STREAMED = [  # the unsolicited events of the recording, in order (hand-read from the file)
    "FullyBooted",
    "SuccessfulAuth",
    "ChallengeSent",
    "SuccessfulAuth",
    "DeviceStateChange",
    "PeerStatus",
    "ContactStatus",
    "ChallengeSent",
    "SuccessfulAuth",
    "DeviceStateChange",
    "PeerStatus",
    "ContactStatus",
]
SNAPSHOT = ["PJSIP/op1001", "PJSIP/op1002", "Queue:support_avail"]
LISTED = len(SNAPSHOT) + 1  # the DeviceStateChange list and its DeviceStateListComplete


def settings(port: int, **overrides: Any) -> AmiSettings:
    return AmiSettings(host="127.0.0.1", port=port, username="okno", password="okno", **overrides)


@asynccontextmanager
async def running(adapter: AmiAdapter) -> AsyncIterator[None]:
    async with asyncio.TaskGroup() as group:
        task = group.create_task(adapter.run())
        try:
            yield
        finally:
            task.cancel()


async def take(adapter: AmiAdapter, count: int) -> list[AmiEvent]:
    async with asyncio.timeout(5):
        return [await adapter.events.get() for _ in range(count)]


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``condition`` (state owned by other tasks) until it holds, or fail."""
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


async def test_login_snapshot_then_recorded_events_reach_the_translator() -> None:
    server = AmiReplayServer("sip_registration_ami")
    async with server.serving() as port:
        adapter = AmiAdapter(settings(port), backoff=FAST)
        async with running(adapter):
            events = await take(adapter, LISTED + len(STREAMED))
            assert adapter.connected.is_set()
    assert [e.get("Device") for e in events[:LISTED]] == [*SNAPSHOT, None]
    assert events[LISTED - 1]["Event"] == "DeviceStateListComplete"
    assert [e["Event"] for e in events[LISTED:]] == STREAMED
    translator = Translator()
    published = [event for message in events for event in translator.feed_ami(message)]
    assert [(e.type, e.endpoint, str(getattr(e, "state", ""))) for e in published] == [
        ("operator_device_state", "PJSIP/op1001", "not_in_use"),
        ("operator_device_state", "PJSIP/op1002", "unavailable"),
        ("operator_online", "PJSIP/op1001", ""),
        ("operator_device_state", "PJSIP/op1001", "unavailable"),
        ("operator_offline", "PJSIP/op1001", ""),
    ]
    login = server.actions[0]
    assert (login["Action"], login["Username"], login["Secret"], login["Events"]) == (
        "Login",
        "okno",
        "okno",
        "on",
    )


async def test_dropped_link_reconnects_logs_in_again_and_loses_nothing() -> None:
    server = AmiReplayServer("sip_registration_ami", chunks=[5, 4])
    async with server.serving() as port:
        adapter = AmiAdapter(settings(port), backoff=FAST)
        async with running(adapter):
            events = await take(adapter, 3 * LISTED + len(STREAMED))
    streamed = [e["Event"] for e in events if "ActionID" not in e]
    assert streamed == STREAMED
    assert adapter.logins == 3
    assert [a["Action"] for a in server.actions].count("Login") == 3


async def test_keep_alive_pings_and_a_silent_asterisk_is_dropped() -> None:
    answering = AmiReplayServer("sip_registration_ami")
    silent = AmiReplayServer("sip_registration_ami", answer_pings=False)
    fast_ping = {"ping_interval_s": 0.02, "ping_timeout_s": 0.05}
    async with answering.serving() as port_a, silent.serving() as port_s:
        alive = AmiAdapter(settings(port_a, **fast_ping), backoff=FAST)
        deaf = AmiAdapter(settings(port_s, **fast_ping), backoff=FAST)
        async with running(alive), running(deaf):
            await until(lambda: deaf.logins >= 3)
            await until(lambda: [a["Action"] for a in answering.actions].count("Ping") >= 3)
            assert alive.logins == 1


async def test_refused_login_retries_with_backoff_and_never_connects() -> None:
    server = AmiReplayServer("sip_registration_ami", accept_login=False)
    async with server.serving() as port:
        adapter = AmiAdapter(settings(port), backoff=FAST)
        async with running(adapter):
            await until(lambda: server.connections >= 3)
            assert not adapter.connected.is_set()
            with pytest.raises(AmiUnavailable):
                await adapter.send_action({"Action": "PJSIPShowEndpoints"})
    assert adapter.logins == 0


async def test_actions_get_their_listed_answers() -> None:
    server = AmiReplayServer("sip_registration_ami")
    async with server.serving() as port:
        adapter = AmiAdapter(settings(port), backoff=FAST)
        async with running(adapter):
            await asyncio.wait_for(adapter.connected.wait(), 5)
            answer = await adapter.send_action({"Action": "DeviceStateList"})
    assert answer[0]["Response"] == "Success"
    assert [m.get("Device") for m in answer[1:-1]] == SNAPSHOT
    assert answer[-1]["Event"] == "DeviceStateListComplete"


async def test_a_cancel_that_meets_a_lost_link_still_stops_the_adapter() -> None:
    """Asterisk going away at the moment the bridge is stopped: the link's TaskGroup sees
    both its child's "link lost" and the stop, and Python 3.11 raises only the former. The
    adapter must still stop instead of reconnecting for ever."""
    server = AmiReplayServer("sip_registration_ami")
    async with server.serving() as port:
        adapter = AmiAdapter(settings(port), backoff=FAST)
        task = asyncio.create_task(adapter.run())
        await until(adapter.connected.is_set)
        manager = adapter._manager
        assert manager is not None
        manager.connection_lost(None)  # the link drops...
        task.cancel()  # ...as the bridge is told to stop
        with pytest.raises(asyncio.CancelledError):
            async with asyncio.timeout(2):
                await task
