"""State and helpers shared by the engine's parts (calls, bridging, media, endpoints)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from fakepbx.behaviour import OperatorBehaviour
from fakepbx.bus import EventBus
from fakepbx.clock import SimClock
from fakepbx.dialplan import Dialplan as DialplanConfig
from fakepbx.errors import AriError, channel_not_found, not_in_stasis
from fakepbx.notifier import Notifier
from fakepbx.objects import Bridge, Channel, Dialplan, Endpoint, LiveRecording, Playback
from fakepbx.supervisor import Supervisor


class EngineBase:
    """Everything lives in one asyncio loop: a mutation between two awaits is atomic, which
    is what makes the order of emitted events deterministic."""

    def __init__(
        self,
        *,
        bus: EventBus,
        clock: SimClock,
        supervisor: Supervisor,
        dialplan: DialplanConfig,
        sound_seconds: dict[str, float],
        default_sound_seconds: float,
    ) -> None:
        self.bus = bus
        self.notify = Notifier(bus)
        self.clock = clock
        self.supervisor = supervisor
        self.dialplan = dialplan
        self.sound_seconds = sound_seconds
        self.default_sound_seconds = default_sound_seconds
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.playbacks: dict[str, Playback] = {}
        self.live_recordings: dict[str, LiveRecording] = {}
        self.stored_recordings: dict[str, str] = {}  # name -> format
        self.endpoints: dict[str, Endpoint] = {}
        self.behaviours: dict[str, OperatorBehaviour] = {}
        self.remote_behaviour = OperatorBehaviour(answers_after=2.0, hangs_up_after=None)
        self.number_behaviours: dict[str, OperatorBehaviour] = {}  # numbers dialled via trunks
        self.recording_seconds: dict[str, int] = {}  # stored recording -> length
        self.channel_tasks: dict[str, asyncio.Task[Any]] = {}
        self.stasis_exits: dict[str, asyncio.Future[tuple[str, str, int] | None]] = {}
        self.destroyed_events: dict[str, asyncio.Event] = {}
        self.answer_waiters: dict[str, asyncio.Future[None]] = {}
        self.timers: dict[str, asyncio.Task[Any]] = {}
        self.deferred: dict[str, list[Callable[[], None]]] = {}
        self.origin_dialplans: dict[str, Dialplan] = {}
        self.after_answer: dict[str, tuple[str, str, int]] = {}
        self.device_states: dict[str, str] = {}
        self.play_locks: dict[str, asyncio.Lock] = {}
        self.playback_tasks: dict[str, asyncio.Task[Any]] = {}
        self.recording_tasks: dict[str, asyncio.Task[Any]] = {}
        self._seq = 0
        self._local_seq = 0
        self._tech_seq = 0

    # --- ids -----------------------------------------------------------------------------
    def next_channel_id(self) -> str:
        channel_id = f"{int(time.time())}.{self._seq}"
        self._seq += 1
        return channel_id

    def next_local_suffix(self) -> str:
        suffix = f"{self._local_seq:08x}"
        self._local_seq += 1
        return suffix

    def next_tech_suffix(self) -> str:
        suffix = f"{self._tech_seq:08x}"
        self._tech_seq += 1
        return suffix

    # --- lookups -------------------------------------------------------------------------
    def channel(self, channel_id: str) -> Channel:
        ch = self.channels.get(channel_id)
        if ch is None:
            raise channel_not_found()
        return ch

    def stasis_channel(self, channel_id: str) -> Channel:
        ch = self.channel(channel_id)
        if ch.stasis_app is None:
            raise not_in_stasis()
        return ch

    def bridge(self, bridge_id: str) -> Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise AriError(404, "Bridge not found")
        return bridge

    def peer(self, ch: Channel) -> Channel | None:
        return self.channels.get(ch.peer_id) if ch.peer_id else None

    # --- subscriptions -------------------------------------------------------------------
    def subscribe_channel(self, app: str, ch: Channel) -> None:
        self.bus.app(app).channel_ids[ch.id] = None

    def unsubscribe_channel(self, ch: Channel, *, keep_originator: bool) -> None:
        for app in self.bus.apps.values():
            if keep_originator and app.name == ch.originated_app:
                continue
            app.channel_ids.pop(ch.id, None)

    def sleep(self, seconds: float) -> Any:
        return self.clock.sleep(seconds)
