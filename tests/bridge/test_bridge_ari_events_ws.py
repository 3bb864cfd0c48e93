"""The ARI WebSocket reader against a real websockets server on loopback replaying traces."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from bridge_loopback import AriRestReplay, AriWebSocketScript, serve_http
from bridge_traces import ari_events, ari_lines, rest_response
from websockets.asyncio.server import serve

from ari_bridge.ari_client import AriClient
from ari_bridge.ari_events_ws import AriEventStream, events_url
from ari_bridge.backoff import Backoff
from ari_bridge.events import DomainEvent
from ari_bridge.translate import Translator

FAST = Backoff(initial_s=0.01, factor=2.0, cap_s=0.05)


@asynccontextmanager
async def ws_server(handler: Any, port: int = 0) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", port) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{bound}/ari"


@asynccontextmanager
async def running(stream: AriEventStream) -> AsyncIterator[None]:
    async with asyncio.TaskGroup() as group:
        task = group.create_task(stream.run())
        try:
            yield
        finally:
            task.cancel()


async def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll ``condition`` (state owned by other tasks) until it holds, or fail."""
    for _ in range(int(timeout_s / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


def collector() -> tuple[list[dict[str, Any]], Callable[[dict[str, Any]], Awaitable[None]]]:
    got: list[dict[str, Any]] = []

    async def on_event(message: dict[str, Any]) -> None:
        got.append(message)

    return got, on_event


def snapshot(channels: list[Any], bridges: list[Any]) -> list[dict[str, Any]]:
    """Recorded-style answers to one reconciliation (GET /channels, then GET /bridges)."""
    return [
        {"method": "GET", "path": f"/ari/{kind}", "query": {}, "status": 200, "response": body}
        for kind, body in (("channels", channels), ("bridges", bridges))
    ]


@pytest.mark.parametrize(
    ("flow", "cut"), [("inbound_bridge", 13), ("agent_no_answer", 30), ("dtmf_menu", 1)]
)
async def test_messages_survive_a_dropped_connection(flow: str, cut: int) -> None:
    lines = ari_lines(flow)
    script = AriWebSocketScript([lines[:cut], lines[cut:]])
    got, on_event = collector()
    connects = 0

    async def on_connected() -> None:
        nonlocal connects
        connects += 1

    async with ws_server(script) as base:
        stream = AriEventStream(
            events_url(base, "okno"),
            username="okno",
            password="okno",
            on_event=on_event,
            on_connected=on_connected,
            backoff=FAST,
        )
        async with running(stream):
            await until(lambda: len(got) == len(lines) and connects == 3)
    assert got == [json.loads(line) for line in lines]
    assert script.paths == ["/ari/events?app=okno"] * 3
    assert set(script.auth) == {"Basic b2tubzpva25v"}


async def test_ws_reconnect_flow_reconciles_through_rest_and_loses_no_call() -> None:
    """The recorded ws_reconnect: first socket, gap, second socket, reconcile on each connect.

    Snapshots: empty before the call, the recorded GET /channels and /bridges at the
    reconnect, empty again after the call ended (a third connection follows the second close).
    """
    at_reconnect = (
        rest_response("ws_reconnect", "GET", "/ari/channels"),
        rest_response("ws_reconnect", "GET", "/ari/bridges"),
    )
    recorded = [*snapshot([], []), *snapshot(*at_reconnect), *snapshot([], [])]
    rest = AriRestReplay(recorded=recorded)
    script = AriWebSocketScript(
        [ari_lines("ws_reconnect")[:2], ari_lines("ws_reconnect", "ari.ws2")]
    )
    translator = Translator()
    published: list[DomainEvent] = []

    async def on_event(message: dict[str, Any]) -> None:
        published.extend(translator.feed_ari(message))

    async with (
        serve_http(rest) as http_base,
        AriClient.open(f"{http_base}/ari", username="okno", password="okno", app="okno") as client,
        ws_server(script) as ws_base,
    ):

        async def reconcile() -> None:
            channels, bridges = await client.list_channels(), await client.list_bridges()
            published.extend(translator.reconcile(channels, bridges))

        stream = AriEventStream(
            events_url(ws_base, "okno"),
            username="okno",
            password="okno",
            on_event=on_event,
            on_connected=reconcile,
            backoff=FAST,
        )
        async with running(stream):
            await until(lambda: stream.connections == 3 and len(rest.received) == 6)
    assert [event.type for event in published] == ["call_arrived", "call_released"]
    assert rest.unexpected == []
    assert [r.path for r in rest.received] == ["/ari/channels", "/ari/bridges"] * 3


async def test_reconnects_with_backoff_until_asterisk_comes_up() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    got, on_event = collector()

    async def nothing() -> None:
        return None

    lines = ari_lines("blind_transfer_continue")
    stream = AriEventStream(
        f"ws://127.0.0.1:{port}/ari/events?app=okno",
        username="okno",
        password="okno",
        on_event=on_event,
        on_connected=nothing,
        backoff=FAST,
    )
    async with running(stream):
        await asyncio.sleep(0.15)
        assert stream.connections == 0
        async with ws_server(AriWebSocketScript([lines]), port=port):
            await until(lambda: len(got) == len(lines))
    assert got == ari_events("blind_transfer_continue")
