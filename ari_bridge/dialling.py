"""Dialling callbacks: the operator's seat first, then the citizen through the outbound trunk.

A pure state machine inside the call controller, one entry per callback being dialled:

1. ``DialCallback`` rings the seat (leg ``<callback>-op<seq>``; the operator sees the citizen's
   number) with Stasis arguments ``agent,<agent>,<callback>,callback,<number>``, which let a
   restarted bridge carry on from the leg alone.
2. The operator answers: ``AgentAnswered`` to the router, a mixing bridge ``callback-<id>``
   with the operator in it, and the citizen is originated (leg ``<operator leg>-citizen``,
   a fixed id so a repeated originate is refused by Asterisk instead of ringing twice).
   The operator does not answer: ``AgentNoAnswer``, and the callback goes back to its line.
3. The citizen answers and joins the bridge. Still there ``callback_settle_s`` later:
   ``CallbackResult(answered)``; gone before: ``hung_up`` (voicemail, or a hang-up at once).
   Not answered: ``busy`` / ``no_answer`` / ``failed`` from Asterisk's cause (see
   ``translate.py``); the operator's leg is released.
4. Either side hangs up a settled conversation: ``CallEnded`` and the other leg is hung up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge.config import BridgeConfig
from ari_bridge.step import Step
from services.acd import commands as c
from services.acd import events as r

_Phase = Literal["ringing_operator", "dialling_citizen", "settling", "talking"]
_RESULTS = {"busy": "busy", "no_answer": "no_answer"}  # anything else reads as "failed"


@dataclass(slots=True)
class _Callback:
    callback_id: str
    agent: str
    number: str
    operator_leg: str
    phase: _Phase = "ringing_operator"

    @property
    def citizen_leg(self) -> str:
        return f"{self.operator_leg}-citizen"

    @property
    def bridge(self) -> str:
        return f"callback-{self.callback_id}"

    @property
    def settle_timer(self) -> str:
        return f"{self.callback_id}-settle"


class CallbackDialler:
    """Decides the ARI actions and router events of every callback this bridge dials."""

    def __init__(self, config: BridgeConfig) -> None:
        self._config = config
        self._active: dict[str, _Callback] = {}
        self._legs: dict[str, str] = {}  # leg id -> callback id, until the leg's ending

    def owns(self, event: d.DomainEvent) -> bool:
        """Whether the event is about one of the callbacks' legs."""
        match event:
            case d.AgentAnswered():
                return event.leg_id in self._legs or event.callback_to is not None
            case d.AgentNoAnswer() | d.AgentHungUp():
                return event.leg_id in self._legs
            case d.CitizenAnswered() | d.CitizenUnreached() | d.CitizenHungUp():
                return True
        return False

    # --- the router's command ----------------------------------------------------------

    def dial(self, command: c.DialCallback, step: Step) -> None:
        """Ring the operator's seat; a callback already being dialled is not dialled again."""
        if command.callback_id in self._active:
            return
        ring = a.OriginateOperator.ring(
            self._config.endpoint_of(command.agent_id),
            call_id=command.callback_id,
            seq=command.seq,
            agent=command.agent_id,
            ring_timeout=command.ring_timeout,
            caller_id=command.caller,
            extra_args=("callback", command.caller),
        )
        callback = _Callback(command.callback_id, command.agent_id, command.caller, ring.leg_id)
        self._active[callback.callback_id] = callback
        self._legs[ring.leg_id] = callback.callback_id
        step.actions.append(ring)

    def stop(self, callback_id: str, step: Step) -> bool:
        """``StopRinging`` for a callback (cancelled by staff): release its legs while the
        seat or the citizen's phone still rings, or while the answer is still settling;
        ``False`` if no such callback is dialled.
        Nobody is told: the router has already closed it."""
        callback = self._active.get(callback_id)
        if callback is None:
            return False
        if callback.phase == "ringing_operator":
            del self._active[callback_id]
            step.actions.append(a.Hangup(callback.operator_leg))
        elif callback.phase in ("dialling_citizen", "settling"):
            # The router still counted it as dialling (the settle wait had not reported the
            # answer yet), so it freed the operator: the conversation must end here too.
            if callback.phase == "settling":
                step.effects.append(a.CancelTimer(callback.settle_timer))
            step.actions.append(a.Hangup(callback.operator_leg))
            self._end(callback, callback.citizen_leg, step)
        return True

    # --- Asterisk's events -------------------------------------------------------------

    def on_event(self, event: d.DomainEvent, step: Step) -> None:
        match event:
            case d.AgentAnswered():
                self._operator_answered(event, step)
            case d.AgentNoAnswer():
                self._operator_missed(event, step)
            case d.AgentHungUp():
                self._operator_gone(event, step)
            case d.CitizenAnswered():
                self._citizen_answered(event, step)
            case d.CitizenUnreached():
                self._citizen_unreached(event, step)
            case d.CitizenHungUp():
                self._citizen_gone(event, step)
            case _:
                pass

    def on_timer(self, callback_id: str, timer_id: str, step: Step) -> bool:
        """The settle wait after the citizen answered; ``False`` if the timer is not ours."""
        callback = self._active.get(callback_id)
        if callback is None or timer_id != callback.settle_timer:
            return False
        if callback.phase == "settling":
            callback.phase = "talking"
            step.router_events.append(r.CallbackResult(callback_id, callback.agent, "answered"))
        return True

    def _operator_answered(self, event: d.AgentAnswered, step: Step) -> None:
        callback_id = self._legs.get(event.leg_id) or event.call_id or ""
        callback = self._active.get(callback_id)
        if callback is None and event.callback_to is not None:
            callback = self._adopt(callback_id, event)  # rung before this bridge started
        if (
            callback is None
            or callback.operator_leg != event.leg_id
            or callback.phase != "ringing_operator"
        ):
            step.actions.append(a.Hangup(event.leg_id))
            return
        step.router_events.append(r.AgentAnswered(callback_id, callback.agent))
        self._dial_citizen(callback, step)

    def _dial_citizen(self, callback: _Callback, step: Step) -> None:
        callback.phase = "dialling_citizen"
        self._legs[callback.citizen_leg] = callback.callback_id
        step.actions += [
            a.CreateMixingBridge(callback.bridge),
            a.AddToBridge(callback.bridge, (callback.operator_leg,)),
            self._originate_citizen(callback),
        ]

    def _originate_citizen(self, callback: _Callback) -> a.OriginateCitizen:
        config = self._config
        return a.OriginateCitizen(
            leg_id=callback.citizen_leg,
            callback_id=callback.callback_id,
            endpoint=config.callback_endpoint_for(callback.number),
            app_args=f"citizen,{callback.callback_id}",
            timeout_s=config.callback_ring_timeout_s,
            caller_id=config.callback_caller_id,
        )

    def _operator_missed(self, event: d.AgentNoAnswer, step: Step) -> None:
        callback = self._active.get(self._legs.pop(event.leg_id, ""))
        if callback is None or callback.operator_leg != event.leg_id:
            return
        del self._active[callback.callback_id]
        step.router_events.append(r.AgentNoAnswer(callback.callback_id, callback.agent))

    def _operator_gone(self, event: d.AgentHungUp, step: Step) -> None:
        callback = self._active.get(self._legs.pop(event.leg_id, ""))
        if callback is None or callback.operator_leg != event.leg_id or event.by_bridge:
            return
        cb_id, agent = callback.callback_id, callback.agent
        if callback.phase == "dialling_citizen":  # gave up waiting for the citizen
            step.router_events.append(r.CallbackResult(cb_id, agent, "no_answer"))
        elif callback.phase == "settling":
            step.effects.append(a.CancelTimer(callback.settle_timer))
            step.router_events += [r.CallbackResult(cb_id, agent, "answered"), r.CallEnded(cb_id)]
        elif callback.phase == "talking":
            step.router_events.append(r.CallEnded(cb_id))
        self._end(callback, callback.citizen_leg, step)

    def _citizen_answered(self, event: d.CitizenAnswered, step: Step) -> None:
        callback = self._active.get(event.callback_id)
        if (
            callback is None
            or callback.citizen_leg != event.leg_id
            or callback.phase != "dialling_citizen"
        ):
            step.actions.append(a.Hangup(event.leg_id))
            return
        step.actions.append(a.AddToBridge(callback.bridge, (event.leg_id,)))
        self._settle(callback, step)

    def _settle(self, callback: _Callback, step: Step) -> None:
        settle = self._config.callback_settle_s * self._config.timer_scale
        callback.phase = "settling"
        if settle > 0:
            step.effects.append(a.StartTimer(callback.callback_id, callback.settle_timer, settle))
        else:
            self.on_timer(callback.callback_id, callback.settle_timer, step)

    def _citizen_unreached(self, event: d.CitizenUnreached, step: Step) -> None:
        callback = self._active.get(self._legs.pop(event.leg_id, ""))
        if (
            callback is None
            or callback.citizen_leg != event.leg_id
            or callback.phase != "dialling_citizen"
        ):
            return
        result = _RESULTS.get(event.reason, "failed")
        step.router_events.append(r.CallbackResult(callback.callback_id, callback.agent, result))
        self._end(callback, callback.operator_leg, step)

    def _citizen_gone(self, event: d.CitizenHungUp, step: Step) -> None:
        callback = self._active.get(self._legs.pop(event.leg_id, ""))
        if callback is None or callback.citizen_leg != event.leg_id or event.by_bridge:
            return
        cb_id = callback.callback_id
        if callback.phase == "settling":
            step.effects.append(a.CancelTimer(callback.settle_timer))
            step.router_events.append(r.CallbackResult(cb_id, callback.agent, "hung_up"))
        elif callback.phase == "talking":
            step.router_events.append(r.CallEnded(cb_id))
        self._end(callback, callback.operator_leg, step)

    def _end(self, callback: _Callback, other_leg: str, step: Step) -> None:
        """Release the leg still up and the bridge; their endings come back as ``by_bridge``."""
        del self._active[callback.callback_id]
        step.actions += [a.Hangup(other_leg), a.DestroyBridge(callback.bridge)]

    # --- after a restart ---------------------------------------------------------------

    def _adopt(self, callback_id: str, event: d.AgentAnswered) -> _Callback:
        callback = _Callback(callback_id, event.agent, event.callback_to or "", event.leg_id)
        self._active[callback_id] = callback
        self._legs[event.leg_id] = callback_id
        return callback

    def recover(
        self, event: d.DomainEvent, bridge_of: dict[str, tuple[str, str]], step: Step
    ) -> None:
        """Adopt a callback's legs found in Asterisk by reconciliation.

        An operator leg in its callback bridge waits for the citizen (whose leg, if still
        ringing, Asterisk refuses to originate twice) or talks with them; an answered one in
        no bridge is bridged and the citizen dialled. A citizen leg joins its callback.
        The router hears again what it may have missed while no bridge listened (its core
        ignores an answer or a result it already has).
        """
        match event:
            case d.AgentAnswered() if event.call_id and event.callback_to is not None:
                callback = self._active.get(event.call_id)
                if callback is not None:
                    return  # a reconnect of a running bridge: nothing was forgotten
                callback = self._adopt(event.call_id, event)
                step.router_events.append(r.AgentAnswered(callback.callback_id, callback.agent))
                if bridge_of.get(event.leg_id, ("", ""))[0] != callback.bridge:
                    self._dial_citizen(callback, step)
                elif callback.citizen_leg in bridge_of:
                    callback.phase = "talking"
                    self._legs[callback.citizen_leg] = callback.callback_id
                    result = r.CallbackResult(callback.callback_id, callback.agent, "answered")
                    step.router_events.append(result)
                else:
                    callback.phase = "dialling_citizen"
                    self._legs[callback.citizen_leg] = callback.callback_id
                    step.actions.append(self._originate_citizen(callback))
            case d.CitizenAnswered():
                callback = self._active.get(event.callback_id)
                if callback is not None and callback.phase == "talking":
                    return
                self._citizen_answered(event, step)
            case _:
                pass
