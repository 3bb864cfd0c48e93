"""The bridge process: Asterisk on one side, the router's Redis streams on the other.

ARI WebSocket and AMI events go through the translator into the call controller, whose
actions run through ARI and whose router events go to the `events` stream. Router commands
come from the `commands` stream (consumer group `bridge`), run once each (a Redis marker per
command id) and are acknowledged only after they ran. One lock serialises decisions, so the
controller sees events and commands in one order.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import structlog
from redis.exceptions import RedisError

from ari_bridge import actions as a
from ari_bridge.ami_adapter import AmiAdapter
from ari_bridge.ari_client import AriClient
from ari_bridge.ari_errors import AriError, AriUnavailable
from ari_bridge.ari_events_ws import AriEventStream
from ari_bridge.calls import CallController, Step
from ari_bridge.config import BridgeConfig
from ari_bridge.events import CallArrived, DomainEvent
from ari_bridge.executor import Executor, Speaker
from ari_bridge.menus import Conditions, conditions
from ari_bridge.translate import Translator
from services.common.streams import Entry, Streams
from services.ivr.outputs import StatusResult, spoken_information
from services.ivr.schema import FlowLibrary
from services.router.wire import COMMANDS, EVENTS, command_from_fields, event_fields

GROUP = "bridge"
_DONE_TTL_S = 24 * 3600
_SAVE_TRIES = 3
_SAVE_RETRY_S = 0.5
_log = structlog.get_logger(__name__)


class BridgeService:
    """Runs the links to Asterisk and the streams to the router until cancelled."""

    def __init__(
        self,
        *,
        config: BridgeConfig,
        ari: AriClient,
        events_url: str,
        ari_user: str,
        ari_password: str,
        streams: Streams,
        consumer: str,
        ami: AmiAdapter | None = None,
        flows: FlowLibrary | None = None,
        modes_key: str = "",
        speaker: Speaker | None = None,
    ) -> None:
        self.config = config
        self.ari = ari
        self.streams = streams
        self.consumer = consumer
        self.ami = ami
        self.translator = Translator(app=config.app)
        self.controller = CallController(config, flows, speaks_texts=speaker is not None)
        self.executor = Executor(ari, self.translator, speaker)
        self._menus = config.menus and flows is not None
        self._modes_key = modes_key
        # Where voice messages are copied; without it they are noted without a file.
        self._recordings_dir = config.recordings_dir
        self._lock = asyncio.Lock()
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._knowledge: httpx.AsyncClient | None = None
        self._complaints: httpx.AsyncClient | None = None
        self.websocket = AriEventStream(
            events_url,
            username=ari_user,
            password=ari_password,
            on_event=self._on_ari,
            on_connected=self._reconcile,
        )

    async def run(self) -> None:
        async with (
            httpx.AsyncClient(
                base_url=self.config.knowledge_url, timeout=self.config.knowledge_timeout_s
            ) as knowledge,
            httpx.AsyncClient(
                base_url=self.config.complaints_url, timeout=self.config.complaints_timeout_s
            ) as complaints,
            asyncio.TaskGroup() as group,
        ):
            self._knowledge, self._complaints, self._group = knowledge, complaints, group
            group.create_task(self.websocket.run())
            group.create_task(self._consume_commands())
            if self.ami is not None:
                group.create_task(self.ami.run())
                group.create_task(self._pump_ami(self.ami))

    # --- Asterisk → controller ---------------------------------------------------------

    async def _on_ari(self, message: dict[str, Any]) -> None:
        async with self._lock:
            for event in self.translator.feed_ari(message):
                at = await self._conditions(event)
                await self._settle(self.controller.on_event(event, at), event)

    async def _conditions(self, event: DomainEvent) -> Conditions | None:
        """The centre's modes and local time for a new call's menu (read per call, so a
        supervisor's switch applies to the next caller)."""
        if not self._menus or not isinstance(event, CallArrived):
            return None
        client: Any = self.streams.client
        modes: dict[str, str] = await client.hgetall(self._modes_key) if self._modes_key else {}
        return conditions(modes, datetime.now(UTC), self.config.night)

    async def _pump_ami(self, ami: AmiAdapter) -> None:
        while True:
            message = await ami.events.get()
            async with self._lock:
                for event in self.translator.feed_ami(message):
                    await self._settle(self.controller.on_event(event), event)

    async def _reconcile(self) -> None:
        """After every (re)connection: adopt live calls, end vanished ones."""
        channels = await self.ari.list_channels()
        bridges = await self.ari.list_bridges()
        bridge_of = {
            str(channel_id): (str(bridge["id"]), str(bridge.get("bridge_type", "")))
            for bridge in bridges
            for channel_id in bridge.get("channels") or []
        }
        async with self._lock:
            for event in self.translator.reconcile(channels, bridges):
                at = await self._conditions(event)
                await self._settle(self.controller.recover(event, bridge_of, at), event)
        _log.info("bridge reconciled", calls=len(self.controller.live_calls))

    async def _settle(self, step: Step, cause: DomainEvent | None) -> None:
        """Tell the router, then run the decision's actions; an ARI refusal is logged, not fatal.

        The router hears first so that its decision overlaps the REST calls; the lock keeps its
        commands behind these actions anyway.
        """
        for event in step.router_events:
            await self.streams.add(EVENTS, event_fields(event))
        for note in step.notes:
            await self.streams.add(note.stream, note.fields)
        refused: list[DomainEvent] = []
        try:
            refused = await self.executor.run(step.actions)
        except AriUnavailable:
            raise
        except AriError as exc:
            _log.warning(
                "ari action failed",
                error_id=exc.error_id,
                route=exc.route,
                status=exc.status,
                cause=cause.type if cause is not None else "command",
            )
        for effect in step.effects:
            self._start(effect)
        for ending in refused:  # a leg Asterisk would not dial ends here, like a real ending
            await self._settle(self.controller.on_event(ending), ending)

    # --- menu timers and knowledge look-ups ------------------------------------------------

    def _start(self, effect: a.MenuEffect) -> None:
        group, knowledge = self._group, self._knowledge
        match effect:
            case a.CancelTimer(timer_id):
                task = self._timers.pop(timer_id, None)
                if task is not None:
                    task.cancel()
            case a.StartTimer(call_id, timer_id, seconds) if group is not None:
                self._timers[timer_id] = group.create_task(self._timer(call_id, timer_id, seconds))
            case a.FetchInformation() if group is not None and knowledge is not None:
                group.create_task(self._fetch(knowledge, effect))
            case a.FetchStatus() if group is not None and self._complaints is not None:
                group.create_task(self._status(self._complaints, effect))
            case a.SaveRecording() if group is not None:
                group.create_task(self._save_recording(effect))
            case _:
                pass

    async def _timer(self, call_id: str, timer_id: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        async with self._lock:
            if self._timers.pop(timer_id, None) is None:
                return  # cancelled while waiting for the lock
            await self._callback(self.controller.on_timer(call_id, timer_id))

    async def _fetch(self, knowledge: httpx.AsyncClient, request: a.FetchInformation) -> None:
        """Top answers for the menu; any failure reads as "no answer", which the menu speaks
        as its `empty` prompt."""
        params: dict[str, str | int] = {"limit": request.limit}
        if request.topic:
            params["topic"] = request.topic
        if request.service:
            params["service_code"] = request.service
        text = ""
        try:
            response = await knowledge.get("/knowledge/public/faq/top", params=params)
            response.raise_for_status()
            answers = response.json()
            if isinstance(answers, list):
                text = spoken_information([x for x in answers if isinstance(x, dict)])
        except (httpx.HTTPError, ValueError) as exc:
            _log.warning("knowledge answers unavailable", topic=request.topic, error=str(exc))
        async with self._lock:
            await self._callback(self.controller.on_information(request.call_id, text))

    async def _status(self, complaints: httpx.AsyncClient, request: a.FetchStatus) -> None:
        """A complaint's status for the menu, by the public endpoint: 404 reads as
        "not_found"; a failure, a refusal (429) or a malformed answer as "unavailable", which
        the menu says as such. The number and digits are never logged."""
        result: StatusResult = "unavailable"
        text = ""
        try:
            response = await complaints.post(
                "/complaints/status",
                json={"number": request.number, "phone_last4": request.phone_last4},
            )
            if response.status_code == 404:
                result = "not_found"
            else:
                response.raise_for_status()
                body = response.json()
                text = str(body.get("spoken") or "") if isinstance(body, dict) else ""
                result = "found" if text else "unavailable"
        except (httpx.HTTPError, ValueError) as exc:
            _log.warning("complaint status unavailable", error=type(exc).__name__)
        async with self._lock:
            await self._callback(self.controller.on_status(request.call_id, result, text))

    async def _save_recording(self, save: a.SaveRecording) -> None:
        """Copy the message out of Asterisk, note it for its follow-up with ``file``, and only
        then delete Asterisk's copy."""
        fields = dict(save.fields)
        copied = None
        if self._recordings_dir is not None:
            copied = await self._copy_recording(save.name, self._recordings_dir)
        if copied is not None:
            fields["file"] = copied
        await self._note_until_written(save.stream, fields)
        if copied is not None:
            try:
                await self.ari.delete_recording(save.name)
            except AriError as exc:
                _log.info("stored recording left in Asterisk", recording=save.name, error=str(exc))

    async def _note_until_written(self, stream: str, fields: dict[str, str]) -> None:
        """Write the follow-up entry, retrying while Redis is away: the message is on disk
        only, and a lost entry would leave it unregistered (and a raised error would stop
        the bridge's call handling)."""
        for attempt in itertools.count():
            try:
                await self.streams.add(stream, fields)
                return
            except (RedisError, OSError) as exc:
                _log.warning("voice message not noted yet; retrying", error=str(exc))
                await asyncio.sleep(min(30.0, _SAVE_RETRY_S * 2**attempt))

    async def _copy_recording(self, name: str, folder: Path) -> str | None:
        """``<name>.wav`` in ``folder``; its name, or None.

        Asterisk may still be closing the file when RecordingFinished arrives, or be briefly
        unreachable: a few tries, then None, and the message is noted without a file (its
        follow-up flags it) rather than lost."""
        file_name = f"{name}.wav"
        for attempt in range(_SAVE_TRIES):
            try:
                audio = await self.ari.recording_file(name)
                await asyncio.to_thread(_write_file, folder / file_name, audio)
            except (AriError, OSError) as exc:
                _log.warning("recording not copied", recording=name, error=str(exc))
                await asyncio.sleep(_SAVE_RETRY_S * (attempt + 1))
                continue
            return file_name
        return None

    async def _callback(self, step: Step) -> None:
        try:
            await self._settle(step, None)
        except AriUnavailable as exc:
            _log.warning("asterisk unreachable; menu step lost", error=str(exc))

    # --- router → controller -----------------------------------------------------------

    async def _consume_commands(self) -> None:
        await self.streams.ensure_group(COMMANDS, GROUP)
        # A command is only meaningful once this bridge knows the live calls: wait for the
        # first reconciliation, or commands for calls it has not adopted yet would be dropped.
        await self.websocket.connected.wait()
        while True:
            try:
                # Own pending entries first: left by a crash, or by Asterisk being unreachable.
                for entry in await self.streams.read_pending(COMMANDS, GROUP, self.consumer):
                    await self._execute(entry)
                while True:
                    for entry in await self.streams.read(
                        COMMANDS, GROUP, self.consumer, block_ms=1000
                    ):
                        await self._execute(entry)
            except AriUnavailable as exc:
                _log.warning("asterisk unreachable; commands wait", error=str(exc))
                await asyncio.sleep(1.0)

    async def _execute(self, entry: Entry) -> None:
        command_id = entry.fields.get("command_id", entry.id)
        done_key = self.streams.key(f"done:{command_id}")
        client: Any = self.streams.client
        if await client.exists(done_key):
            await self.streams.ack(COMMANDS, GROUP, entry.id)
            return
        try:
            command = command_from_fields(entry.fields)
        except (ValueError, TypeError) as exc:
            _log.warning("unreadable command dropped", entry=entry.id, error=str(exc))
            await self.streams.ack(COMMANDS, GROUP, entry.id)
            return
        async with self._lock:
            await self._settle(self.controller.on_command(command), None)
        await client.set(done_key, "1", ex=_DONE_TTL_S)
        await self.streams.ack(COMMANDS, GROUP, entry.id)


def _write_file(path: Path, data: bytes) -> None:
    """Write whole or not at all: a reader never sees half a recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)
