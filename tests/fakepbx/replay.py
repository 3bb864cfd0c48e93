"""Drives the fake through a recorded flow: the same REST calls at the same relative times
(scaled by the fake's speed), the same handset actions (DTMF, registrations), and collects
what the fake answers and emits, with trace ids mapped onto the fake's ids."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import websockets

from fakepbx.pbx import FakePbx, PbxOptions
from tests.fakepbx.shared import TRACES, read_jsonl

SPEED = 3.0
# Flows whose outcome depends on a duration measured by the fake (the recording's length)
# run slower, so scheduling jitter on a busy machine stays well inside its rounding.
SPEEDS = {"record_voice_message": 1.5}
# Lengths of the sounds the flows play, measured in the recordings.
SOUNDS = {
    "sound:demo-instruct": 73.0,
    "sound:basic-pbx-ivr-main": 30.0,
    "sound:auth-thankyou": 0.96,
}
# ws_reconnect closes and reopens the socket (MANIFEST.md, flow 8).
RECONNECTS = {"ws_reconnect": ("2026-11-30T11:25:20.796+0000", "2026-11-30T11:25:23.803+0000")}


async def wait_until(condition: Callable[[], bool], seconds: float = 1.0) -> bool:
    """Poll ``condition`` for up to ``seconds``; the caller's assertions report a miss."""
    for _ in range(int(seconds / 0.005)):
        if condition():
            return True
        await asyncio.sleep(0.005)
    return condition()


def parse_time(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


@dataclass
class Action:
    at: float
    kind: str  # rest | dtmf | register | unregister | ws_close | ws_open
    data: dict[str, Any]


@dataclass
class ReplayResult:
    events: list[dict[str, Any]] = field(default_factory=list)
    rest: list[tuple[dict[str, Any], int, Any]] = field(default_factory=list)  # trace, status, body
    ids: dict[str, str] = field(default_factory=dict)  # trace id -> fake id
    ami_events: list[str] = field(default_factory=list)  # names of the AMI events mirrored
    errors: list[BaseException] = field(default_factory=list)


def plan(flow: str) -> tuple[list[Action], list[dict[str, Any]]]:
    events = read_jsonl(TRACES / f"{flow}.ari.jsonl")
    actions = [
        Action(parse_time(r["t"]), "rest", r) for r in read_jsonl(TRACES / f"{flow}.ari-rest.jsonl")
    ]
    for event in events:
        if event["type"] == "ChannelDtmfReceived":  # pressed on the handset, reported at key-up
            at = parse_time(event["timestamp"]) - event["duration_ms"] / 1000
            actions.append(Action(at, "dtmf", event))
        if event["type"] == "ContactStatusChange":
            kind = (
                "register" if event["contact_info"]["contact_status"] != "Removed" else "unregister"
            )
            port = int(event["contact_info"]["uri"].rsplit(":", 1)[1])
            actions.append(
                Action(
                    parse_time(event["timestamp"]) - 0.001,
                    kind,
                    {"resource": event["endpoint"]["resource"], "port": port},
                )
            )
    if flow in RECONNECTS:
        close, reopen = RECONNECTS[flow]
        actions += [
            Action(parse_time(close), "ws_close", {}),
            Action(parse_time(reopen), "ws_open", {}),
        ]
    actions.sort(key=lambda a: a.at)
    return actions, events


class Replayer:
    def __init__(self, pbx: FakePbx, flow: str) -> None:
        self.pbx = pbx
        self.flow = flow
        self.result = ReplayResult()
        self.actions, self.trace_events = plan(flow)
        self.ws_task: asyncio.Task[None] | None = None
        self.speed = pbx.options.speed

    def _map(self, text: str) -> str:
        for trace_id, fake_id in sorted(self.result.ids.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(trace_id, fake_id)
        return text

    async def _listen(self) -> None:
        async with websockets.connect(self.pbx.events_url) as ws:
            async for message in ws:
                self.result.events.append(json.loads(message))

    async def _open_ws(self) -> None:
        self.ws_task = asyncio.get_running_loop().create_task(self._listen())
        apps, name = self.pbx.engine.bus.apps, self.pbx.options.app
        await wait_until(lambda: name in apps and bool(apps[name].sockets))

    async def _close_ws(self) -> None:
        if self.ws_task is not None:
            self.ws_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.ws_task
            app = self.pbx.engine.bus.apps[self.pbx.options.app]
            await wait_until(lambda: not app.sockets)

    async def _catch_up(self, at: float) -> None:
        """Wait until the fake has emitted as many events as the trace had by ``at``
        (the trace file holds only what the sockets received, like ``result.events``)."""
        expected = sum(1 for e in self.trace_events if parse_time(e["timestamp"]) <= at)
        await wait_until(lambda: len(self.result.events) >= expected)

    async def run(self, client: httpx.AsyncClient) -> ReplayResult:
        start = self.actions[0].at
        loop = asyncio.get_running_loop()
        origin = loop.time()
        ami: asyncio.Queue[str] = asyncio.Queue()
        self.pbx.engine.bus.ami_listeners.append(ami)
        await self._open_ws()
        for action in self.actions:
            delay = origin + (action.at - start) / self.speed - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._catch_up(action.at)
            await self._perform(action, client)
        await asyncio.sleep(1.5 / self.speed)
        await self._catch_up(float("inf"))
        await self._close_ws()
        self.result.errors = list(self.pbx.errors)
        while not ami.empty():
            self.result.ami_events += re.findall(r"^Event: (\w+)", ami.get_nowait(), re.M)
        return self.result

    async def _perform(self, action: Action, client: httpx.AsyncClient) -> None:
        if action.kind == "rest":
            await self._rest(action.data, client)
        elif action.kind == "dtmf":
            target = self.result.ids[action.data["channel"]["id"]]
            handset = self.pbx.engine.channels[target].peer_id
            assert handset is not None
            loop = asyncio.get_running_loop()
            self.pbx.engine.supervisor.spawn(
                self.pbx.press(handset, action.data["digit"], action.data["duration_ms"]),
                f"press-{loop.time()}",
            )
        elif action.kind == "register":
            self.pbx.register(action.data["resource"], action.data["port"])
        elif action.kind == "unregister":
            self.pbx.unregister(action.data["resource"])
        elif action.kind == "ws_close":
            await self._close_ws()
        elif action.kind == "ws_open":
            await self._open_ws()

    async def _rest(self, call: dict[str, Any], client: httpx.AsyncClient) -> None:
        path = self._map(call["path"])
        query = {k: self._map(v) for k, v in call["query"].items()}
        url = path + ("?" + urlencode(query) if query else "")
        response = await client.request(call["method"], url)
        body = response.json() if response.content else None
        self.result.rest.append((call, response.status_code, body))
        self._learn_ids(call["response"], body)

    def _learn_ids(self, trace_body: Any, fake_body: Any) -> None:
        if not isinstance(trace_body, dict) or not isinstance(fake_body, dict):
            return
        if "id" in trace_body and "id" in fake_body:
            self.result.ids[trace_body["id"]] = fake_body["id"]
            if trace_body.get("name", "").endswith(";1"):  # the ;2 half: next id on both sides
                fake_two = self.pbx.engine.channels[fake_body["id"]].peer_id
                epoch, seq = trace_body["id"].rsplit(".", 1)
                if fake_two is not None:
                    self.result.ids[f"{epoch}.{int(seq) + 1}"] = fake_two


async def replay(flow: str) -> tuple[ReplayResult, list[dict[str, Any]]]:
    options = PbxOptions(
        speed=SPEEDS.get(flow, SPEED),
        dialplan="recorded",
        operators=("op1001", "op1002"),
        trunks=(),
        sound_seconds=SOUNDS,
    )
    async with FakePbx.start(options=options) as pbx:
        replayer = Replayer(pbx, flow)
        async with httpx.AsyncClient(
            base_url=pbx.ari_url, auth=("okno", "okno"), timeout=5
        ) as client:
            result = await replayer.run(client)
        return result, replayer.trace_events
