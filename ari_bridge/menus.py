"""The voice menu of one call inside the call controller: pure glue between `IvrSession` and ARI.

The shell reads the centre's modes and the clock once per call (`conditions`); the session's
outputs become ARI actions and service effects (`Menu.feed`). A prompt whose every media item
is a text the bridge cannot speak is treated as played at once, so the menu never waits for a
playback that was never started.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ari_bridge import actions as a
from services.acd.schedule import NightSchedule
from services.ivr import outputs as o
from services.ivr.engine import IvrSession
from services.ivr.schema import Flow, FlowLibrary

MODES = "modes"
"""Redis hash `okno:<centre>:modes` (supervision writes it): night_override, emergency, …"""


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the centre is like when a call arrives; ``now`` is aware, in the centre's zone."""

    now: datetime
    night: bool = False
    emergency: bool = False
    announcement: str = ""
    holidays: frozenset[date] = frozenset()


def conditions(modes: Mapping[str, str], now: datetime, schedule: NightSchedule) -> Conditions:
    """Decide night and emergency from the modes hash and the schedule at ``now`` (aware)."""
    override = modes.get("night_override", "auto")
    if override == "night":
        night = True
    elif override == "day":
        night = False
    else:
        night = schedule.is_night(now.timestamp())
    emergency = modes.get("emergency") == "1"
    return Conditions(
        now=now.astimezone(ZoneInfo(schedule.timezone)),
        night=night,
        emergency=emergency,
        announcement=modes.get("announcement", "") if emergency else "",
        holidays=frozenset(schedule.holidays),
    )


@dataclass(frozen=True, slots=True)
class Note:
    """An entry for a stream other than the router's (variables, outcomes to follow up)."""

    stream: str
    fields: Mapping[str, str]


@dataclass(slots=True)
class MenuStep:
    actions: list[a.Action] = field(default_factory=list)
    effects: list[a.MenuEffect] = field(default_factory=list)
    outcome: o.Outcome | None = None


class Menu:
    """One caller's session and the bits of it the controller must see (the live recording)."""

    def __init__(
        self,
        call_id: str,
        flow: Flow,
        flows: Mapping[str, Flow],
        *,
        did: str,
        caller: str,
        at: Conditions,
        speaks_texts: bool,
        timer_scale: float,
    ) -> None:
        context = o.CallContext(
            did=did,
            caller=caller,
            now=at.now,
            night=at.night,
            emergency=at.emergency,
            announcement=at.announcement,
            holidays=at.holidays,
            session_id=call_id,
        )
        self.call_id = call_id
        self.session = IvrSession(flow, context, flows=flows)
        self.recording: str | None = None
        self._speaks_texts = speaks_texts
        self._timer_scale = timer_scale

    @property
    def finished(self) -> bool:
        return self.session.finished

    def feed(self, outputs: list[o.Output]) -> MenuStep:
        """Map the session's outputs, in order, onto ARI actions and service effects."""
        step = MenuStep()
        pending = deque(outputs)
        while pending:
            output = pending.popleft()
            match output:
                case o.Play(playback_id, media, texts):
                    if not self._speaks_texts:
                        unspoken = {m for m, _text in texts}
                        media, texts = tuple(m for m in media if m not in unspoken), ()
                    if media:
                        step.actions.append(a.Play(self.call_id, playback_id, media, texts))
                    else:
                        pending.extendleft(reversed(self.session.on_playback_finished(playback_id)))
                case o.StopPlayback(playback_id):
                    step.actions.append(a.StopPlayback(playback_id))
                case o.StartTimer(timer_id, seconds):
                    scaled = seconds * self._timer_scale
                    step.effects.append(a.StartTimer(self.call_id, timer_id, scaled))
                case o.CancelTimer(timer_id):
                    step.effects.append(a.CancelTimer(timer_id))
                case o.StartRecording(name, max_seconds, terminate_on, beep):
                    self.recording = name
                    step.actions.append(
                        a.Record(self.call_id, name, max_seconds, terminate_on, beep)
                    )
                case o.FetchInformation(topic, service, limit):
                    step.effects.append(a.FetchInformation(self.call_id, topic, service, limit))
                case o.FetchStatus(number, phone_last4):
                    step.effects.append(a.FetchStatus(self.call_id, number, phone_last4))
                case _:
                    step.outcome = output
        return step

    def recording_ended(self, name: str, duration: int | None) -> MenuStep:
        if name == self.recording:
            self.recording = None
        return self.feed(self.session.on_recording_finished(name, duration))

    def hung_up(self) -> MenuStep:
        """The caller left; a recording in progress counts as finished (length unknown), since
        its RecordingFinished may come after the channel is gone and never reach us."""
        step = self.feed(self.session.on_hangup())
        if self.recording is not None:
            rest = self.recording_ended(self.recording, None)
            step.actions += rest.actions
            step.effects += rest.effects
            step.outcome = step.outcome or rest.outcome
        return step


class Menus:
    """The menus running on this bridge, by call id; a finished session is dropped at once."""

    def __init__(self, flows: FlowLibrary, *, speaks_texts: bool, timer_scale: float) -> None:
        self._flows = flows
        self._speaks_texts = speaks_texts
        self._timer_scale = timer_scale
        self._running: dict[str, Menu] = {}

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._running

    def start(self, call_id: str, *, did: str, caller: str, at: Conditions) -> MenuStep:
        menu = Menu(
            call_id,
            self._flows.for_did(did),
            self._flows.flows,
            did=did,
            caller=caller,
            at=at,
            speaks_texts=self._speaks_texts,
            timer_scale=self._timer_scale,
        )
        self._running[call_id] = menu
        return self._kept(menu, menu.feed(menu.session.start()))

    def on_dtmf(self, call_id: str, digit: str) -> MenuStep:
        return self._input(call_id, lambda m: m.feed(m.session.on_dtmf(digit)))

    def on_playback_finished(self, call_id: str, playback_id: str) -> MenuStep:
        return self._input(call_id, lambda m: m.feed(m.session.on_playback_finished(playback_id)))

    def on_recording_finished(self, call_id: str, name: str, duration: int | None) -> MenuStep:
        return self._input(call_id, lambda m: m.recording_ended(name, duration))

    def on_timer(self, call_id: str, timer_id: str) -> MenuStep:
        return self._input(call_id, lambda m: m.feed(m.session.on_timeout(timer_id)))

    def on_information(self, call_id: str, text: str) -> MenuStep:
        return self._input(call_id, lambda m: m.feed(m.session.on_information(text)))

    def on_status(self, call_id: str, result: o.StatusResult, text: str) -> MenuStep:
        return self._input(call_id, lambda m: m.feed(m.session.on_status(result, text)))

    def variables(self, call_id: str) -> dict[str, str]:
        """The caller's menu variables so far ({} when no menu runs for the call)."""
        menu = self._running.get(call_id)
        return {} if menu is None else dict(menu.session.variables)

    def on_hangup(self, call_id: str) -> MenuStep:
        step = self._input(call_id, Menu.hung_up)
        self._running.pop(call_id, None)
        return step

    def _input(self, call_id: str, apply: Callable[[Menu], MenuStep]) -> MenuStep:
        menu = self._running.get(call_id)
        return MenuStep() if menu is None else self._kept(menu, apply(menu))

    def _kept(self, menu: Menu, step: MenuStep) -> MenuStep:
        if menu.finished:
            self._running.pop(menu.call_id, None)
        return step
