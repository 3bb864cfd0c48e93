"""The bridge's call controller: a pure state machine between Asterisk and the ACD router.

Domain events from the translator and commands from the router go in; ARI actions and router
events come out. It owns the per-call facts the router does not care about — which leg rings
for which call, which bridge a call is in, which prompt ends in a hang-up — and nothing else.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge.config import BridgeConfig
from services.acd import commands as c
from services.acd import events as r

_ENDED_MEMORY = 4096


@dataclass(slots=True)
class Step:
    """The outcome of one input: what to do in Asterisk, and what to tell the router."""

    actions: list[a.Action] = field(default_factory=list)
    router_events: list[r.Event] = field(default_factory=list)


@dataclass(slots=True)
class _Call:
    did: str
    caller: str
    topic: str
    language: str
    arrived_at: datetime | None
    phase: str = "queued"  # queued | offered_callback | ringing | talking | handed_off
    leg_id: str | None = None
    agent: str | None = None
    mixing_bridge: str | None = None
    in_holding: bool = False


class CallController:
    """Decides the ARI actions of every call this bridge serves."""

    def __init__(self, config: BridgeConfig) -> None:
        self._config = config
        self._calls: dict[str, _Call] = {}
        self._legs: dict[str, str] = {}
        self._hangup_after: dict[str, str] = {}  # playback id -> call to hang up when it ends
        self._ended_legs: OrderedDict[str, None] = OrderedDict()  # recent, never adopted again
        self._holding_ready = False
        self._holding_count = 0

    @property
    def live_calls(self) -> frozenset[str]:
        return frozenset(self._calls)

    # --- domain events from Asterisk ---------------------------------------------------

    def on_event(self, event: d.DomainEvent) -> Step:
        """React to one translated Asterisk event."""
        step = Step()
        match event:
            case d.CallArrived():
                self._arrived(event, step)
            case d.DtmfReceived():
                self._dtmf(event, step)
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
                call_id = self._hangup_after.pop(event.playback_id, None)
                if call_id is not None and call_id in self._calls:
                    step.actions.append(a.Hangup(call_id))
            case d.OperatorOffline():
                agent = self._config.agent_of_endpoint(event.endpoint)
                if agent is not None:
                    step.router_events.append(r.AgentPaused(agent, reason="softphone_offline"))
            case _:
                pass
        return step

    def _arrived(self, event: d.CallArrived, step: Step) -> None:
        route = self._config.route_for(event.did)
        call = _Call(
            did=event.did,
            caller=event.caller_number,
            topic=route.topic,
            language=route.language,
            arrived_at=event.arrived_at or event.at,
        )
        self._calls[event.call_id] = call
        step.actions.append(a.Answer(event.call_id))
        self._into_holding(event.call_id, call, step)
        step.router_events.append(
            r.CallArrived(
                call_id=event.call_id,
                centre=self._config.centre,
                topic=route.topic,
                language=route.language,
                priority=route.priority,
                did=event.did,
                caller=event.caller_number,
            )
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
                )
            )
            self._say_and_hang_up(event.call_id, call, "callback-accepted", step)
        else:
            step.router_events.append(r.CallbackDeclined(event.call_id))

    def _caller_gone(self, call_id: str, step: Step, *, tell_router: bool) -> None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        self._out_of_holding(call_id, call, step, remove=False)
        if call.phase == "talking" and call.leg_id is not None:
            step.actions.append(a.Hangup(call.leg_id))
        if call.mixing_bridge is not None:
            step.actions.append(a.DestroyBridge(call.mixing_bridge))
        if tell_router and call.phase != "handed_off":
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

    def recover(self, event: d.DomainEvent, bridge_of: dict[str, tuple[str, str]]) -> Step:
        """Adopt what reconciliation found in Asterisk instead of treating it as new.

        `bridge_of` maps a channel id to (bridge id, bridge type) from `GET /bridges`. A caller
        already talking keeps its bridge; one in the queue's holding bridge stays queued; a
        caller in no bridge is handled as a new arrival; an operator leg of a talking call is
        re-attached, any other is hung up.
        """
        step = Step()
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
                step.router_events.append(
                    r.CallArrived(
                        event.call_id,
                        self._config.centre,
                        route.topic,
                        route.language,
                        route.priority,
                        event.did,
                        event.caller_number,
                    )
                )
            return step
        if isinstance(event, d.AgentAnswered):
            talking = self._calls.get(event.call_id or "")
            if event.call_id and talking is not None and talking.phase == "talking":
                self._legs[event.leg_id] = event.call_id
                talking.leg_id, talking.agent = event.leg_id, event.agent
            else:
                step.actions.append(a.Hangup(event.leg_id))
            return step
        return self.on_event(event)

    # --- commands from the router ------------------------------------------------------

    def on_command(self, command: c.Command) -> Step:
        """Carry out one router command (records are not for the bridge)."""
        step = Step()
        match command:
            case c.ConnectAgent():
                self._connect(command, step)
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
        leg_id = f"{command.call_id}-op{command.seq}"
        call.phase, call.leg_id, call.agent = "ringing", leg_id, command.agent_id
        self._legs[leg_id] = command.call_id
        step.actions.append(
            a.OriginateOperator(
                leg_id=leg_id,
                agent=command.agent_id,
                call_id=command.call_id,
                endpoint=self._config.endpoint_of(command.agent_id),
                app_args=f"agent,{command.agent_id},{command.call_id}",
                timeout_s=max(1, math.ceil(command.ring_timeout)),
                caller_id=call.caller,
            )
        )

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

    def _hand_to_prompt(self, call_id: str, prompt: str, step: Step) -> None:
        call = self._calls.get(call_id)
        if call is None or call.phase in ("talking", "handed_off"):
            return
        call.phase = "handed_off"
        self._say_and_hang_up(call_id, call, prompt, step)

    def _say_and_hang_up(self, call_id: str, call: _Call, prompt: str, step: Step) -> None:
        self._out_of_holding(call_id, call, step, remove=True)
        playback_id = f"{call_id}-{prompt}"
        self._hangup_after[playback_id] = call_id
        step.actions.append(a.Play(call_id, playback_id, (self._config.prompt(prompt),)))
