"""What happens when a caller's voice menu ends: pure mapping of the menu's outcome.

Every call that ran a menu gets ONE `call-variables` entry, written when the menu ends (the
outcome, or the caller hanging up mid-menu): the menu's variables plus ``outcome`` (queue,
hangup, self_service, transfer, recorded, callback), ``reason`` (why a flow ended the call
itself, e.g. ``survey_done``, ``no_input``, ``empty_message``; empty otherwise), ``did``,
``caller``, ``started_at`` and ``ended_at`` (Unix seconds; for an outcome with a farewell,
the line drops a few seconds after ``ended_at``). Calls that leave for the queue get their
call record from the router; the others get theirs from these entries.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from ari_bridge import actions as a
from ari_bridge.config import BridgeConfig
from ari_bridge.menus import Note
from services.acd import events as r
from services.ivr import outputs as o
from services.ivr.streams import CALL_VARIABLES, IVR_OUTCOMES

HANGUP = "hangup"
"""The caller hung up before the menu reached an outcome."""


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What the controller knows of a call its menu ran for."""

    did: str
    caller: str
    language: str
    started_at: float
    night: bool


@dataclass(slots=True)
class MenuEnd:
    """What the controller does when a menu ends: notes, service effects, router events, then
    the queue (``closing`` None) or the farewell followed by ``closing``."""

    notes: list[Note] = field(default_factory=list)
    effects: list[a.MenuEffect] = field(default_factory=list)
    router_events: list[r.Event] = field(default_factory=list)
    closing: a.Action | None = None
    farewell: tuple[str, ...] = ()


def menu_ended(
    call_id: str,
    outcome: o.Outcome,
    facts: CallFacts | None,
    config: BridgeConfig,
    *,
    now: float,
) -> MenuEnd:
    """The menu's outcome for a call still up (``facts``) or already gone (None: only what a
    service must follow up, e.g. a message recorded up to the hang-up)."""
    end = MenuEnd(effects=follow_up(call_id, outcome))
    if facts is None:
        return end
    kind = outcome_kind(outcome)
    reason = outcome.reason if isinstance(outcome, o.Hangup) else ""
    end.notes.append(variables_note(call_id, kind, outcome.variables, facts, now, reason=reason))
    if isinstance(outcome, o.RouteToQueue):
        return end
    if isinstance(outcome, o.RequestCallback):
        end.router_events.append(callback_request(call_id, outcome, facts, requested_at=now))
    end.closing = closing_action(call_id, outcome, facts.caller, config)
    end.farewell = outcome.farewell
    return end


def outcome_kind(outcome: o.Outcome) -> str:
    """The ``outcome`` field of a menu's ending (a hang-up the flow decided is self-service:
    the caller heard the answers, a survey or a goodbye)."""
    match outcome:
        case o.RouteToQueue():
            return "queue"
        case o.RequestCallback():
            return "callback"
        case o.Transfer():
            return "transfer"
        case o.RecordedMessage():
            return "recorded"
        case _:
            return "self_service"


def variables_note(
    call_id: str,
    kind: str,
    variables: Mapping[str, str],
    facts: CallFacts,
    now: float,
    *,
    reason: str = "",
) -> Note:
    """The call's one `call-variables` entry."""
    return Note(
        CALL_VARIABLES,
        {
            "call_id": call_id,
            "variables": json.dumps(dict(variables), ensure_ascii=False),
            "outcome": kind,
            "reason": reason,
            "did": facts.did,
            "caller": facts.caller,
            "started_at": f"{facts.started_at:.3f}",
            "ended_at": f"{now:.3f}",
        },
    )


def follow_up(call_id: str, outcome: o.Outcome) -> list[a.MenuEffect]:
    """What a service must follow up: a recorded message (copied out of Asterisk first, then
    noted with its `file`). Callback requests go to the router, which persists and dials them."""
    if isinstance(outcome, o.RecordedMessage):
        variables = outcome.variables
        fields = {
            "call_id": call_id,
            "kind": outcome.kind,
            "recording": outcome.name,
            "duration": "" if outcome.duration is None else str(outcome.duration),
            "did": variables.get("did", ""),
            "caller": variables.get("caller", ""),
            "topic": variables.get("topic", ""),
        }
        return [a.SaveRecording(outcome.name, IVR_OUTCOMES, fields)]
    return []


def callback_request(
    call_id: str, outcome: o.RequestCallback, facts: CallFacts, *, requested_at: float
) -> r.CallbackRequested:
    """The router's callback request: from the callback line, or left at night (a request
    "for the morning" or made in night mode), which the router makes due at opening."""
    return r.CallbackRequested(
        callback_id=f"cb-{call_id}",
        topic=outcome.variables.get("topic", "general"),
        language=facts.language,
        caller=outcome.number or facts.caller,
        call_id=call_id,
        requested_at=requested_at,
        source="night" if facts.night or outcome.when == "morning" else "callback_line",
    )


def closing_action(call_id: str, outcome: o.Outcome, caller: str, config: BridgeConfig) -> a.Action:
    """How a call that leaves the menu other than to the queue ends, after its farewell."""
    if isinstance(outcome, o.Transfer):
        topic = outcome.variables.get("topic")
        return transfer(call_id, outcome.number, config, topic=topic, caller=caller)
    return a.Hangup(call_id)


def transfer(
    call_id: str, number: str, config: BridgeConfig, *, topic: str | None, caller: str = ""
) -> a.ContinueInDialplan:
    """Blind transfer: the caller's channel continues in the agency context with the number."""
    return a.ContinueInDialplan(
        channel_id=call_id,
        context=config.transfer_context,
        extension=number,
        variables={
            "OKNO_TOPIC": topic or "general",
            "OKNO_CALLER": caller,
            "OKNO_FROM_CENTRE": config.centre,
        },
    )
