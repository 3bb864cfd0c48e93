"""The bridge's call controller: a pure state machine between Asterisk and the ACD router.

Domain events from the translator and commands from the router go in; ARI actions and router
events come out. It owns the per-call facts the router does not care about — which leg rings
for which call, which bridge a call is in, which prompt ends in a hang-up — and nothing else.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge import menu_outcomes as mo
from ari_bridge.config import BridgeConfig
from ari_bridge.dialling import CallbackDialler
from ari_bridge.menus import Conditions, Menus, MenuStep
from ari_bridge.step import Step
from services.acd import commands as c
from services.acd import events as r
from services.ivr import outputs as o
from services.ivr.schema import FlowLibrary

_ENDED_MEMORY = 4096

__all__ = ["CallController", "Step"]


@dataclass(slots=True)
class _Call:
    did: str
    caller: str
    topic: str
    language: str
    arrived_at: datetime | None
    # menu | leaving (gone mid-menu) | queued | offered_callback | ringing | talking | handed_off
    phase: str = "queued"
    leg_id: str | None = None
    agent: str | None = None
    mixing_bridge: str | None = None
    in_holding: bool = False
    night: bool = False  # the menu ran in night mode


class CallController:
    """Decides the ARI actions of every call this bridge serves."""

    def __init__(
        self,
        config: BridgeConfig,
        flows: FlowLibrary | None = None,
        *,
        speaks_texts: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``flows`` are the voice menus (run when ``config.menus``); ``speaks_texts`` says
        whether texts known only during a call (announcements, answers) can be synthesised;
        ``clock`` stamps menu endings and callback requests."""
        self._config = config
        self._clock = clock
        self._dialler = CallbackDialler(config)
        self._menus = (
            Menus(flows, speaks_texts=speaks_texts, timer_scale=config.timer_scale)
            if flows is not None and config.menus
            else None
        )
        self._calls: dict[str, _Call] = {}
        self._legs: dict[str, str] = {}
        # playback id -> (call, what to do when it ends): hang up, or continue in the dialplan
        self._after_playback: dict[str, tuple[str, a.Action]] = {}
        self._ended_legs: OrderedDict[str, None] = OrderedDict()  # recent, never adopted again
        self._holding_ready = False
        self._holding_count = 0

    @property
    def live_calls(self) -> frozenset[str]:
        return frozenset(self._calls)

    # --- domain events from Asterisk ---------------------------------------------------

    def on_event(self, event: d.DomainEvent, at: Conditions | None = None) -> Step:
        """React to one translated Asterisk event; an arrival needs the centre's ``at``
        conditions when menus run."""
        step = Step()
        if self._dialler.owns(event):
            self._dialler.on_event(event, step)
            return step
        menus = self._menus
        in_menu = menus is not None and getattr(event, "call_id", None) in menus
        match event:
            case d.CallArrived() if menus is not None and at is not None:
                self._start_menu(menus, event, at, step)
            case d.CallArrived():
                self._arrived(event, step)
            case d.DtmfReceived() if menus is not None and in_menu:
                self._absorb(event.call_id, menus.on_dtmf(event.call_id, event.digit), step)
            case d.DtmfReceived():
                self._dtmf(event, step)
            case d.RecordingFinished() if menus is not None:
                ended = menus.on_recording_finished(event.call_id, event.name, event.duration_s)
                self._absorb(event.call_id, ended, step)
            case d.CallerHungUp():
                self._caller_gone(event.call_id, step, tell_router=True)
            case d.CallReleased() | d.CallLeftApplication():
                self._caller_gone(event.call_id, step, tell_router=False)
            case d.AgentAnswered():
                self._agent_answered(event, step)
            case d.AgentNoAnswer():
                self._agent_missed(event, step)
            case d.AgentHungUp():
                self._agent_hung_up(event, step)
            case d.PlaybackFinished():
                call_id, then = self._after_playback.pop(event.playback_id, (None, None))
                if call_id in self._calls and then is not None:
                    step.actions.append(then)
                if menus is not None:
                    played = menus.on_playback_finished(event.call_id, event.playback_id)
                    self._absorb(event.call_id, played, step)
            case d.OperatorOffline():
                agent = self._config.agent_of_endpoint(event.endpoint)
                if agent is not None:
                    step.router_events.append(r.AgentPaused(agent, reason="softphone_offline"))
            case _:
                pass
        return step

    def _arrived(self, event: d.CallArrived, step: Step) -> None:
        route = self._config.route_for(event.did)
        arrived = event.arrived_at or event.at
        call = _Call(event.did, event.caller_number, route.topic, route.language, arrived)
        self._calls[event.call_id] = call
        step.actions.append(a.Answer(event.call_id))
        self._queue(event.call_id, call, route.priority, step)

    def _queue(self, call_id: str, call: _Call, priority: int, step: Step) -> None:
        """Into the holding bridge, and the router hears of the call."""
        call.phase = "queued"
        self._into_holding(call_id, call, step)
        step.router_events.append(self._arrival(call_id, call, priority))

    def _arrival(self, call_id: str, call: _Call, priority: int) -> r.CallArrived:
        centre = self._config.centre
        return r.CallArrived(
            call_id, centre, call.topic, call.language, priority, call.did, call.caller
        )

    def _into_holding(self, call_id: str, call: _Call, step: Step) -> None:
        bridge = self._config.holding_bridge_id
        if not self._holding_ready:
            step.actions.append(a.EnsureHoldingBridge(bridge))
            self._holding_ready = True
        step.actions.append(a.AddToBridge(bridge, (call_id,)))
        if self._holding_count == 0:
            step.actions.append(a.StartMusicOnHold(bridge))
        self._holding_count += 1
        call.in_holding = True

    def _out_of_holding(self, call_id: str, call: _Call, step: Step, *, remove: bool) -> None:
        if call.in_holding:
            if remove:
                step.actions.append(a.RemoveFromBridge(self._config.holding_bridge_id, call_id))
            call.in_holding = False
            self._holding_count -= 1

    def _dtmf(self, event: d.DtmfReceived, step: Step) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.phase != "offered_callback":
            return
        call.phase = "queued"
        if event.digit == "1":
            step.router_events.append(
                r.CallbackRequested(
                    callback_id=f"cb-{event.call_id}",
                    topic=call.topic,
                    language=call.language,
                    caller=call.caller,
                    call_id=event.call_id,
                    requested_at=self._clock(),
                    source="queue",
                )
            )
            self._say_and_hang_up(event.call_id, call, "callback-accepted", step)
        else:
            step.router_events.append(r.CallbackDeclined(event.call_id))

    def _caller_gone(self, call_id: str, step: Step, *, tell_router: bool) -> None:
        call = self._calls.get(call_id)
        if self._menus is not None and call_id in self._menus:
            variables = self._menus.variables(call_id)
            if call is not None and call.phase == "menu":
                call.phase = "leaving"  # a recording may still end in an outcome
            self._absorb(call_id, self._menus.on_hangup(call_id), step)
            facts = self._facts(call)
            if call is not None and facts is not None and call.phase == "leaving":
                # No outcome: hung up mid-menu.
                step.notes.append(
                    mo.variables_note(call_id, mo.HANGUP, variables, facts, self._clock())
                )
                call.phase = "handed_off"
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        self._out_of_holding(call_id, call, step, remove=False)
        if call.phase == "talking" and call.leg_id is not None:
            step.actions.append(a.Hangup(call.leg_id))
        if call.mixing_bridge is not None:
            step.actions.append(a.DestroyBridge(call.mixing_bridge))
        if tell_router and call.phase not in ("handed_off", "menu"):
            step.router_events.append(r.CallerHungUp(call_id))

    def _agent_answered(self, event: d.AgentAnswered, step: Step) -> None:
        # A leg this controller did not originate (a restarted bridge) still names its call in
        # its Stasis arguments; a waiting call with no leg of its own adopts it.
        call_id = self._legs.get(event.leg_id) or event.call_id
        call = self._calls.get(call_id) if call_id else None
        if (
            call_id is None
            or call is None
            or event.leg_id in self._ended_legs
            or call.phase in ("talking", "handed_off")
            or (call.leg_id not in (None, event.leg_id))
        ):
            step.actions.append(a.Hangup(event.leg_id))  # the caller left, or it is stale
            return
        self._legs[event.leg_id] = call_id
        call.leg_id, call.agent = event.leg_id, event.agent
        bridge = f"call-{call_id}"
        self._out_of_holding(call_id, call, step, remove=True)
        step.actions += [
            a.CreateMixingBridge(bridge),
            a.AddToBridge(bridge, (call_id, event.leg_id)),
        ]
        call.phase, call.mixing_bridge = "talking", bridge
        step.router_events.append(r.AgentAnswered(call_id, event.agent))

    def _agent_missed(self, event: d.AgentNoAnswer, step: Step) -> None:
        self._ended_legs[event.leg_id] = None
        while len(self._ended_legs) > _ENDED_MEMORY:
            self._ended_legs.popitem(last=False)
        call_id = self._legs.pop(event.leg_id, None)
        call = self._calls.get(call_id) if call_id else None
        if call_id is None:
            return
        if call is not None and call.leg_id == event.leg_id:
            call.phase, call.leg_id, call.agent = "queued", None, None
            step.router_events.append(r.AgentNoAnswer(call_id, event.agent))

    def _agent_hung_up(self, event: d.AgentHungUp, step: Step) -> None:
        call_id = self._legs.pop(event.leg_id, None)
        call = self._calls.get(call_id) if call_id else None
        if call_id is None or call is None or call.phase != "talking" or event.by_bridge:
            return
        step.router_events.append(r.CallEnded(call_id))
        step.actions.append(a.Hangup(call_id))

    # --- recovery after the bridge (re)connects ---------------------------------------------

    def recover(
        self,
        event: d.DomainEvent,
        bridge_of: dict[str, tuple[str, str]],
        at: Conditions | None = None,
    ) -> Step:
        """Adopt what reconciliation found in Asterisk instead of treating it as new.

        `bridge_of` maps a channel id to (bridge id, bridge type) from `GET /bridges`. A caller
        already talking keeps its bridge; one in the queue's holding bridge stays queued; a
        caller in no bridge is handled as a new arrival; an operator leg of a talking call is
        re-attached, any other is hung up. A caller found in no bridge starts the menu again.
        """
        step = Step()
        if isinstance(event, d.CitizenAnswered) or (
            isinstance(event, d.AgentAnswered) and event.callback_to is not None
        ):
            self._dialler.recover(event, bridge_of, step)
            return step
        if isinstance(event, d.CallArrived) and event.call_id in bridge_of:
            bridge_id, kind = bridge_of[event.call_id]
            route = self._config.route_for(event.did)
            call = _Call(event.did, event.caller_number, route.topic, route.language, event.at)
            self._calls[event.call_id] = call
            if kind == "mixing":
                call.phase, call.mixing_bridge = "talking", bridge_id
            elif bridge_id == self._config.holding_bridge_id:
                self._holding_ready, call.in_holding = True, True
                self._holding_count += 1
                step.router_events.append(self._arrival(event.call_id, call, route.priority))
            return step
        if isinstance(event, d.AgentAnswered):
            talking = self._calls.get(event.call_id or "")
            if event.call_id and talking is not None and talking.phase == "talking":
                self._legs[event.leg_id] = event.call_id
                talking.leg_id, talking.agent = event.leg_id, event.agent
            else:
                step.actions.append(a.Hangup(event.leg_id))
            return step
        return self.on_event(event, at)

    # --- commands from the router ------------------------------------------------------

    def on_command(self, command: c.Command) -> Step:
        """Carry out one router command (records are not for the bridge)."""
        step = Step()
        match command:
            case c.ConnectAgent():
                self._connect(command, step)
            case c.DialCallback():
                self._dialler.dial(command, step)
            case c.TransferCall():
                self._transfer(command, step)
            case c.StopRinging() if self._dialler.stop(command.call_id, step):
                pass
            case c.StopRinging():
                call = self._calls.get(command.call_id)
                if call is not None and call.phase == "ringing" and call.leg_id is not None:
                    step.actions.append(a.Hangup(call.leg_id))
            case c.Announce():
                self._announce(command, step)
            case c.OfferCallback():
                call = self._calls.get(command.call_id)
                if call is not None and call.phase == "queued":
                    call.phase = "offered_callback"
                    step.actions.append(
                        a.Play(
                            command.call_id,
                            f"offer-{command.seq}",
                            (self._config.prompt("callback-offer"),),
                        )
                    )
            case c.OverflowTo():
                self._overflow(command, step)
            case c.PlaySelfService():
                self._hand_to_prompt(command.call_id, f"self-service-{command.topic}", step)
            case c.PlayAutoAttendant():
                self._hand_to_prompt(command.call_id, "night-attendant", step)
            case c.EndCall():
                self._hand_to_prompt(command.call_id, "closing", step)
            case _:
                pass
        return step

    def _connect(self, command: c.ConnectAgent, step: Step) -> None:
        call = self._calls.get(command.call_id)
        if call is None or call.phase not in ("queued", "offered_callback"):
            return
        ring = a.OriginateOperator.ring(
            self._config.endpoint_of(command.agent_id),
            call_id=command.call_id,
            seq=command.seq,
            agent=command.agent_id,
            ring_timeout=command.ring_timeout,
            caller_id=call.caller,
        )
        call.phase, call.leg_id, call.agent = "ringing", ring.leg_id, command.agent_id
        self._legs[ring.leg_id] = command.call_id
        step.actions.append(ring)

    def _announce(self, command: c.Announce, step: Step) -> None:
        call = self._calls.get(command.call_id)
        if call is None:
            return
        if command.kind == "emergency":
            media: tuple[str, ...] = (self._config.prompt("emergency"),)
        else:
            minutes = max(1, math.ceil(command.expected_wait / 60))
            media = (
                self._config.prompt("queue-position"),
                f"number:{command.position}",
                self._config.prompt("queue-wait"),
                f"number:{minutes}",
                self._config.prompt("minutes"),
            )
        step.actions.append(a.Play(command.call_id, f"announce-{command.seq}", media))

    def _overflow(self, command: c.OverflowTo, step: Step) -> None:
        call = self._calls.get(command.call_id)
        if call is None or call.phase in ("talking", "handed_off"):
            return
        self._out_of_holding(command.call_id, call, step, remove=True)
        call.phase = "handed_off"
        arrived = call.arrived_at.isoformat() if call.arrived_at else ""
        step.actions.append(
            a.ContinueInDialplan(
                channel_id=command.call_id,
                context=self._config.overflow_context_for(command.centre),
                extension=call.did,
                variables={
                    "OKNO_TOPIC": call.topic,
                    "OKNO_LANGUAGE": call.language,
                    "OKNO_ARRIVED": arrived,
                    "OKNO_CALLER": call.caller,
                    "OKNO_FROM_CENTRE": self._config.centre,
                },
            )
        )

    def _transfer(self, command: c.TransferCall, step: Step) -> None:
        """Blind transfer of a connected call: the caller continues in the agency context,
        the operator's leg is released (its ending is the bridge's own, so not reported)."""
        call = self._calls.get(command.call_id)
        if call is None or call.phase != "talking":
            return
        call.phase = "handed_off"
        step.actions.append(
            mo.transfer(
                command.call_id, command.number, self._config, topic=call.topic, caller=call.caller
            )
        )
        if call.leg_id is not None:
            step.actions.append(a.Hangup(call.leg_id))

    def _hand_to_prompt(self, call_id: str, prompt: str, step: Step) -> None:
        call = self._calls.get(call_id)
        if call is None or call.phase in ("talking", "handed_off"):
            return
        call.phase = "handed_off"
        self._say_and_hang_up(call_id, call, prompt, step)

    def _say_and_hang_up(self, call_id: str, call: _Call, prompt: str, step: Step) -> None:
        self._out_of_holding(call_id, call, step, remove=True)
        playback_id = f"{call_id}-{prompt}"
        self._after_playback[playback_id] = (call_id, a.Hangup(call_id))
        step.actions.append(a.Play(call_id, playback_id, (self._config.prompt(prompt),)))

    # --- voice menus -------------------------------------------------------------------

    def on_timer(self, call_id: str, timer_id: str) -> Step:
        """A menu timer the service started has expired."""
        step = Step()
        if self._dialler.on_timer(call_id, timer_id, step):
            return step
        if self._menus is not None:
            self._absorb(call_id, self._menus.on_timer(call_id, timer_id), step)
        return step

    def on_information(self, call_id: str, text: str) -> Step:
        """The knowledge service's answers for a menu ("" when none or unavailable)."""
        step = Step()
        if self._menus is not None:
            self._absorb(call_id, self._menus.on_information(call_id, text), step)
        return step

    def on_status(self, call_id: str, result: o.StatusResult, text: str = "") -> Step:
        """The complaints service's answer to a menu's status look-up."""
        step = Step()
        if self._menus is not None:
            self._absorb(call_id, self._menus.on_status(call_id, result, text), step)
        return step

    def _start_menu(self, menus: Menus, event: d.CallArrived, at: Conditions, step: Step) -> None:
        route = self._config.route_for(event.did)
        arrived = event.arrived_at or event.at
        call = _Call(event.did, event.caller_number, route.topic, route.language, arrived, "menu")
        call.night = at.night
        self._calls[event.call_id] = call
        step.actions.append(a.Answer(event.call_id))
        started = menus.start(event.call_id, did=event.did, caller=event.caller_number, at=at)
        self._absorb(event.call_id, started, step)

    def _absorb(self, call_id: str, result: MenuStep, step: Step) -> None:
        step.actions += result.actions
        step.effects += result.effects
        if result.outcome is not None:
            self._menu_outcome(call_id, result.outcome, step)

    def _menu_outcome(self, call_id: str, outcome: o.Outcome, step: Step) -> None:
        """The menu ended: queue, callback, recorded message, transfer or hang-up."""
        call = self._calls.get(call_id)
        end = mo.menu_ended(call_id, outcome, self._facts(call), self._config, now=self._clock())
        step.notes += end.notes
        step.effects += end.effects
        step.router_events += end.router_events
        if call is None:
            return
        if call.phase == "leaving":  # the caller is gone: nothing to play or route
            call.phase = "handed_off"
        elif isinstance(outcome, o.RouteToQueue):
            call.topic, call.language = outcome.topic, outcome.language
            self._queue(call_id, call, outcome.priority, step)
        elif end.closing is not None:
            call.phase = "handed_off"
            if end.farewell:
                playback_id = f"{call_id}-farewell"
                self._after_playback[playback_id] = (call_id, end.closing)
                step.actions.append(a.Play(call_id, playback_id, end.farewell))
            else:
                step.actions.append(end.closing)

    def _facts(self, call: _Call | None) -> mo.CallFacts | None:
        if call is None:
            return None
        arrived = call.arrived_at.timestamp() if call.arrived_at is not None else self._clock()
        return mo.CallFacts(call.did, call.caller, call.language, arrived, call.night)
