"""Channel lifecycle: originate, dialplan execution, answer, Stasis entry/exit and hang-ups.

The event sequences reproduce the recordings in ``shared/asterisk/traces`` (MANIFEST.md,
"What ends a channel's life in ARI" and "Hang-up causes"). Local channels come in pairs: the
``;1`` half faces whoever originated it, the ``;2`` half runs the dialplan of ``exten@context``.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from typing import Any

from fakepbx.callerid import format_caller_id, parse_caller_id
from fakepbx.errors import AriError, not_in_stasis
from fakepbx.objects import CallerId, Channel, Dialplan, Json
from fakepbx.teardown import Teardown

Location = tuple[str, str, int]
_STOP = "stop"


class Calls(Teardown):
    stasis_app_name = "okno"

    # Hooks the other parts of the engine implement (the engine class mixes them all in).
    @abstractmethod
    def leave_bridge(self, ch: Channel, *, removed: bool) -> None:
        """Implemented by another part of the engine."""

    @abstractmethod
    def end_media(self, ch: Channel) -> None:
        """Implemented by another part of the engine."""

    @abstractmethod
    def _originate_pjsip(
        self,
        resource: str,
        caller: CallerId,
        app: str | None,
        args: list[str],
        timeout: float,
        channel_id: str | None,
    ) -> Json:
        """Implemented by another part of the engine."""

    @abstractmethod
    def on_dtmf(self, ch: Channel, digit: str) -> None:
        """Implemented by another part of the engine."""

    # --- originate ---------------------------------------------------------------------------
    def originate(
        self,
        *,
        endpoint: str,
        app: str | None = None,
        app_args: str = "",
        context: str | None = None,
        exten: str | None = None,
        priority: int = 1,
        caller_id: str = "",
        timeout: float = 30.0,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
    ) -> Json:
        """POST /channels. Returns the snapshot the REST answer carries (state Down)."""
        tech, _, resource = endpoint.partition("/")
        if not resource:
            raise AriError(400, "Endpoint must be in the format tech/resource")
        if app is None and exten is None:
            raise AriError(400, "Application or extension must be specified")
        for wanted in (channel_id, other_channel_id):
            if wanted is not None and wanted in self.channels:
                raise AriError(409, "Channel with given unique ID already exists")
        caller = parse_caller_id(caller_id)
        args = app_args.split(",") if app_args else []
        after = None if app is not None else (context or "default", exten or "s", priority)
        if tech.lower() == "local":
            return self._originate_local(
                resource, caller, app, args, after, timeout, channel_id, other_channel_id
            )
        if tech.upper() == "PJSIP":
            return self._originate_pjsip(resource, caller, app, args, timeout, channel_id)
        raise AriError(400, f"Unsupported channel technology {tech}")

    def new_local_pair(
        self, resource: str, caller: CallerId, one_id: str | None = None, two_id: str | None = None
    ) -> tuple[Channel, Channel]:
        exten, _, context = resource.partition("@")
        context = context or "default"
        name = f"Local/{exten}@{context}-{self.next_local_suffix()}"
        now = time.time()
        one = Channel(
            one_id or self.next_channel_id(),
            name + ";1",
            "Down",
            CallerId(caller.name, caller.number),
            CallerId(caller.name, caller.number),
            Dialplan(context, exten, 1, "AppDial2", "(Outgoing Line)"),
            now,
            half=1,
            dialstring=resource,
        )
        two = Channel(
            two_id or self.next_channel_id(),
            name + ";2",
            "Ring",
            CallerId(caller.name, caller.number),
            CallerId(caller.name, caller.number),
            Dialplan(context, exten, 1),
            now,
            half=2,
        )
        one.peer_id, two.peer_id = two.id, one.id
        one.variables["__linkedid"] = two.variables["__linkedid"] = one.id
        for ch in (one, two):
            self.register_channel(ch)
        return one, two

    def register_channel(self, ch: Channel) -> None:
        self.channels[ch.id] = ch
        self.destroyed_events[ch.id] = asyncio.Event()
        self.notify.created(ch)

    def _originate_local(
        self,
        resource: str,
        caller: CallerId,
        app: str | None,
        args: list[str],
        after: Location | None,
        timeout: float,
        one_id: str | None,
        two_id: str | None,
    ) -> Json:
        one, two = self.new_local_pair(resource, caller, one_id, two_id)
        one.originated_app, one.originated_app_args = app, args
        self.origin_dialplans[one.id] = Dialplan(**one.dialplan.to_ari())
        if app is not None:
            two.originated_app = app
            self.subscribe_channel(app, one)
            self.subscribe_channel(app, two)
        if after is not None:
            self.after_answer[one.id] = after
        snapshot = one.to_ari()
        self.channel_tasks[two.id] = self.supervisor.spawn(
            self._run_local_outgoing(one, two, timeout), f"local-{two.id}"
        )
        return snapshot

    async def _run_local_outgoing(self, one: Channel, two: Channel, ring_seconds: float) -> None:
        await asyncio.sleep(0)  # the REST answer goes out before the first event
        self.notify.caller_id(two)
        self.notify.connected_line(two)
        self.notify.dial(one, "")
        self.timers[one.id] = self.supervisor.spawn(
            self._answer_timeout(one, ring_seconds), f"timeout-{one.id}"
        )
        await self.run_dialplan(two, two.dialplan.context, two.dialplan.exten, 1)

    async def _answer_timeout(self, one: Channel, ring_seconds: float) -> None:
        await self.sleep(ring_seconds)
        self.timers.pop(one.id, None)
        if one.state == "Up" or one.hangup_started:
            return
        one.hangup_started = True
        two = self.peer(one)
        if two is None:  # a PJSIP leg: no ;2 to tear down
            self.destroy(one, 19)
        else:
            self.teardown_pair(one, two, request_cause=19, cause=19)

    # --- dialplan ---------------------------------------------------------------------------
    async def run_dialplan(self, ch: Channel, context: str, exten: str, priority: int) -> None:
        while not ch.destroyed:
            steps = self.dialplan.lookup(context, exten)
            if steps is None or priority > len(steps):
                break
            step = steps[priority - 1]
            data = step.data.format(
                exten=exten, callerid=format_caller_id(ch.caller), app=self.stasis_app_name
            )
            ch.dialplan = Dialplan(context, exten, priority, step.app, data)
            self.flush_deferred(ch)
            outcome = await self._execute(ch, step.app, data)
            if outcome == _STOP:
                return
            if isinstance(outcome, tuple):
                context, exten, priority = outcome
                continue
            priority += 1
        if not ch.destroyed and not ch.hangup_started:
            ch.dialplan = Dialplan(context, exten, priority - 1)
            self.hangup_from_dialplan(ch)

    def flush_deferred(self, ch: Channel) -> None:
        """Report a dialplan step, then what another Asterisk thread delivers right after it."""
        if ch.pending_caller is None:
            self.notify.dialplan(ch)
        else:  # the new caller id shows in the step's snapshot, its own event follows
            ch.caller, ch.pending_caller = ch.pending_caller, None
            self.notify.dialplan(ch)
            self.notify.caller_id(ch)
        for action in self.deferred.pop(ch.id, []):
            action()

    async def _execute(self, ch: Channel, app: str, data: str) -> Any:
        if app == "Answer":
            self.answer(ch)
            await self.sleep(0.5)  # Answer() lets media settle before the next priority
        elif app == "Ringing":
            self._ringing(ch)
        elif app == "Wait":
            await self.sleep(float(data))
        elif app == "Playback":
            await self.sleep(self.sound_length(f"sound:{data}"))
        elif app == "Hangup":
            self.hangup_from_dialplan(ch)
            return _STOP
        elif app == "Stasis":
            app_name, *args = data.split(",")
            if app_name not in self.bus.apps:  # no client ever connected: Stasis() fails
                self.notify.varset(ch, "STASISSTATUS", "FAILED")
                return None
            self.enter_stasis(ch, app_name, args)
            return await self.stasis_exits[ch.id] or _STOP
        elif app == "Dial":
            await self._dial(ch, data)
        return None

    def sound_length(self, media: str) -> float:
        return self.sound_seconds.get(media, self.default_sound_seconds)

    def _ringing(self, two: Channel) -> None:
        one = self.peer(two)
        if one is None or one.state != "Down":
            return
        one.state = "Ringing"
        self.notify.state_change(one)
        self.deferred.setdefault(two.id, []).append(lambda: self.notify.dial(one, "RINGING"))

    async def _dial(self, ch: Channel, data: str) -> None:
        """Dial(Local/... or PJSIP/...,timeout): ring the target, then stay until one side ends."""
        target, _, timeout_text = data.partition(",")
        tech, _, resource = target.partition("/")
        if tech.lower() == "local":
            leg, two = self.new_local_pair(resource, ch.caller)
            self.notify.dial(leg, "")
            self.channel_tasks[two.id] = self.supervisor.spawn(
                self.run_dialplan(two, two.dialplan.context, two.dialplan.exten, 1),
                f"dial-{two.id}",
            )
        elif tech.upper() == "PJSIP":
            snapshot = self._originate_pjsip(resource, ch.caller, None, [], 3600.0, None)
            leg, two = self.channels[snapshot["id"]], None
        else:
            return
        answered = asyncio.get_running_loop().create_future()
        self.answer_waiters[leg.id] = answered
        try:
            await asyncio.wait_for(answered, timeout=float(timeout_text or 30) / self.clock.speed)
            await self.wait_any_destroyed(ch, leg)
        except TimeoutError:
            self.notify.dial(leg, "NOANSWER")
        finally:
            self.answer_waiters.pop(leg.id, None)
            for other in (leg, two):
                if other is not None:
                    self.destroy(other, 16)

    async def wait_any_destroyed(self, *channels: Channel) -> None:
        events = [self.destroyed_events.get(c.id) for c in channels]
        if any(event is None or event.is_set() for event in events):
            return
        waits = [asyncio.ensure_future(e.wait()) for e in events if e is not None]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits:
                waiter.cancel()

    # --- answer and Stasis ------------------------------------------------------------------
    def answer(self, ch: Channel) -> None:
        """Answer() in dialplan, POST /answer, or a simulated phone picking up."""
        if ch.state == "Up":
            return
        ch.state = "Up"
        self.notify.state_change(ch)
        one = self.peer(ch)
        if ch.half == 2 and one is not None and one.state != "Up":
            one.state = "Up"
            self.notify.state_change(one)
            self.leg_answered(one)

    def leg_answered(self, leg: Channel) -> None:
        """An outgoing leg was answered: report it and hand it to its app or dialplan."""
        timer = self.timers.pop(leg.id, None)
        if timer is not None:
            timer.cancel()
        self.notify.dial(leg, "ANSWER")
        waiter = self.answer_waiters.get(leg.id)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if leg.endpoint is not None:
            self.endpoint_changed(leg.endpoint)
        if leg.originated_app is not None:
            data = ",".join([leg.originated_app, *leg.originated_app_args])
            leg.dialplan = Dialplan(
                leg.dialplan.context, leg.dialplan.exten, leg.dialplan.priority, "Stasis", data
            )
            self.notify.varset(leg, "STASISSTATUS", "")
            self.enter_stasis(leg, leg.originated_app, leg.originated_app_args)
            self.channel_tasks[f"{leg.id}/stasis"] = self.supervisor.spawn(
                self._after_originated_stasis(leg), f"stasis-{leg.id}"
            )
        elif leg.id in self.after_answer:
            context, exten, priority = self.after_answer.pop(leg.id)
            self.channel_tasks[leg.id] = self.supervisor.spawn(
                self.run_dialplan(leg, context, exten, priority), f"dialplan-{leg.id}"
            )

    async def _after_originated_stasis(self, leg: Channel) -> None:
        location = await self.stasis_exits[leg.id]
        if location is not None and not leg.destroyed:
            await self.run_dialplan(leg, *location)

    def enter_stasis(self, ch: Channel, app: str, args: list[str]) -> None:
        ch.stasis_app = app
        self.stasis_exits[ch.id] = asyncio.get_running_loop().create_future()
        self.subscribe_channel(app, ch)
        self.notify.stasis_start(ch, args)

    def leave_stasis(self, ch: Channel, location: Location | None = None) -> None:
        if ch.bridge_id is not None:
            self.leave_bridge(ch, removed=location is not None)
        self.end_media(ch)
        self.notify.stasis_end(ch)
        ch.stasis_app = None
        self.unsubscribe_channel(ch, keep_originator=True)
        exit_future = self.stasis_exits.get(ch.id)
        if exit_future is not None and not exit_future.done():
            exit_future.set_result(location)

    def continue_in_dialplan(
        self, ch: Channel, context: str | None, exten: str | None, priority: int | None
    ) -> None:
        """POST /channels/{id}/continue: StasisEnd, then the dialplan resumes elsewhere."""
        if ch.stasis_app is None:
            raise not_in_stasis()
        if context is None and exten is None and priority is None:
            location = (ch.dialplan.context, ch.dialplan.exten, ch.dialplan.priority + 1)
        else:
            location = (context or ch.dialplan.context, exten or ch.dialplan.exten, priority or 1)
        self.leave_stasis(ch, location)

    # --- DTMF -------------------------------------------------------------------------------
    async def send_dtmf(
        self, ch: Channel, digits: str, duration_ms: int = 100, between_ms: int = 100
    ) -> None:
        """A phone presses keys. Pressed on a handset (``;1``), they arrive on its ``;2``."""
        target = self.peer(ch) if ch.half == 1 and self.peer(ch) is not None else ch
        assert target is not None
        for index, digit in enumerate(digits):
            if index:
                await self.sleep(between_ms / 1000)
            if target.destroyed:
                return
            self.notify.ami_dtmf(target, digit, end=False, duration_ms=duration_ms)
            await self.sleep(duration_ms / 1000)
            if target.destroyed:
                return
            self.notify.ami_dtmf(target, digit, end=True, duration_ms=duration_ms)
            if target.stasis_app is not None:
                self.notify.dtmf(target, digit, duration_ms)
                self.on_dtmf(target, digit)
