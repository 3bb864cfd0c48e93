"""What one operator is doing, folded from the router log (pure: no I/O, no clock).

The router log holds every event the router applied with the commands it produced, so the
operator's state — ready, paused, ringing with which call, talking, in wrap-up until when — is
a fold over its recent entries. It mirrors the router's own split between what the operator
intends (ready, paused, offline) and what they are busy with (a ringing or connected call,
wrap-up); the screen shows the activity when there is one, else the intent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

#: Router commands that put a call or a callback on an operator's phone.
_OFFERS = ("ConnectAgent", "DialCallback")
#: Events and commands after which a connected call is over.
_ENDS = ("CallEnded", "CallerHungUp")


@dataclass(frozen=True, slots=True)
class CallInfo:
    """The call offered to or connected with the operator, as the router saw it."""

    call_id: str
    kind: str  # "call" or "callback"
    topic: str
    caller: str
    did: str
    arrived_at: float
    offered_at: float
    waited: float
    answered_at: float | None = None

    def wait(self, now: float) -> float:
        """How long the caller has waited: until the answer, or until now while ringing."""
        return max(0.0, (self.answered_at or now) - self.arrived_at)


@dataclass(frozen=True, slots=True)
class AgentView:
    """The operator's state at the end of the folded entries."""

    agent_id: str
    intent: str = "offline"  # ready | paused | offline
    activity: str = "idle"  # idle | ringing | talking | wrap_up
    since: float = 0.0
    pause_reason: str = ""
    call: CallInfo | None = None
    wrap_until: float | None = None
    last_entry: str = "0-0"

    def state(self, now: float) -> str:
        """What the screen shows: the activity if busy, else the intent."""
        if self.activity == "wrap_up" and self.wrap_until is not None and now >= self.wrap_until:
            return self.intent
        return self.intent if self.activity == "idle" else self.activity

    def wrap_left(self, now: float) -> float:
        """Seconds of wrap-up left (0 when not in wrap-up)."""
        if self.activity != "wrap_up" or self.wrap_until is None:
            return 0.0
        return max(0.0, self.wrap_until - now)


LogEntry = tuple[str, Mapping[str, str]]
WrapUp = Callable[[str], float]


def fold(
    agent_id: str,
    entries: Iterable[LogEntry],
    wrap_up_seconds: WrapUp,
    start: AgentView | None = None,
) -> AgentView:
    """Apply router-log entries (oldest first) to the operator's view."""
    view = start or AgentView(agent_id)
    arrivals: dict[str, dict[str, Any]] = {}
    for entry_id, fields in entries:
        view = _apply(view, entry_id, fields, arrivals, wrap_up_seconds)
    return view


def concerns(agent_id: str, fields: Mapping[str, str], calls: set[str]) -> bool:
    """Whether an entry changes what this operator's screen shows (for live updates).

    ``calls`` holds the ids of calls offered to the operator so far; offers found in the entry
    are added to it, so that a later end of one of those calls counts too."""
    body = _json(fields.get("body", "{}"))
    mine = body.get("agent_id") == agent_id or body.get("call_id") in calls
    for output in _json_list(fields.get("outputs", "[]")):
        if output.get("agent_id") == agent_id:
            mine = True
            if output.get("type") in _OFFERS:
                calls.add(str(output.get("call_id") or output.get("callback_id") or ""))
    return mine


def _apply(
    view: AgentView,
    entry_id: str,
    fields: Mapping[str, str],
    arrivals: dict[str, dict[str, Any]],
    wrap_up_seconds: WrapUp,
) -> AgentView:
    kind = fields.get("type", "")
    body = _json(fields.get("body", "{}"))
    now = float(fields.get("now", "0") or 0)
    me = view.agent_id
    view = replace(view, last_entry=entry_id)
    if kind == "CallArrived":
        arrivals[str(body.get("call_id", ""))] = {**body, "at": now}
    current = view.call.call_id if view.call else None

    if body.get("agent_id") == me:
        if kind == "AgentLoggedIn" and view.intent == "offline":
            view = replace(view, intent="paused", pause_reason="logged_in", since=now)
        elif kind == "AgentReady" and view.intent == "paused":
            view = replace(view, intent="ready", pause_reason="", since=_since(view, now))
        elif kind == "AgentPaused" and view.intent != "offline":
            view = replace(view, intent="paused", pause_reason=str(body.get("reason", "")))
            view = replace(view, since=_since(view, now))
        elif kind == "AgentLoggedOut":
            view = replace(view, intent="offline", since=_since(view, now))
        elif kind == "AgentAnswered" and body.get("call_id") == current:
            view = _answered(view, now)
        elif kind == "AgentNoAnswer" and body.get("call_id") == current:
            view = replace(view, activity="idle", call=None, since=now)
        elif kind == "WrapUpEnded" and view.activity == "wrap_up":
            view = replace(view, activity="idle", call=None, wrap_until=None, since=now)
    if kind in _ENDS and current is not None and body.get("call_id") == current:
        view = _ended(view, now, wrap_up_seconds)
    if (
        kind == "CallbackResult"
        and current is not None
        and body.get("callback_id") == current
        and body.get("result") != "answered"
    ):
        # Busy, no answer or gone at once: the router frees the operator (the callback waits
        # for its retry), with no wrap-up.
        view = replace(view, activity="idle", call=None, since=now)
    if view.activity == "wrap_up" and view.wrap_until is not None and now >= view.wrap_until:
        view = replace(view, activity="idle", call=None, wrap_until=None, since=view.wrap_until)

    for output in _json_list(fields.get("outputs", "[]")):
        view = _output(view, output, now, arrivals, wrap_up_seconds)
    return view


def _output(
    view: AgentView,
    output: Mapping[str, Any],
    now: float,
    arrivals: Mapping[str, Mapping[str, Any]],
    wrap_up_seconds: WrapUp,
) -> AgentView:
    kind = output.get("type", "")
    me = view.agent_id
    current = view.call.call_id if view.call else None
    if kind in _OFFERS and output.get("agent_id") == me:
        call_id = str(output.get("call_id") or output.get("callback_id") or "")
        arrived = arrivals.get(call_id, {})
        call = CallInfo(
            call_id=call_id,
            kind="call" if kind == "ConnectAgent" else "callback",
            topic=str(output.get("topic") or arrived.get("topic") or "general"),
            caller=str(output.get("caller") or arrived.get("caller") or ""),
            did=str(arrived.get("did", "")),
            arrived_at=float(arrived.get("at", now - float(output.get("waited", 0.0)))),
            offered_at=now,
            waited=float(output.get("waited", 0.0)),
        )
        auto = bool(output.get("auto_answer", False))
        return replace(
            view, activity="talking" if auto else "ringing", call=call, since=now, wrap_until=None
        )
    if kind == "StopRinging" and output.get("agent_id") == me and output.get("call_id") == current:
        return replace(view, activity="idle", call=None, since=now)
    if kind == "CallAnswered" and output.get("agent_id") == me and view.activity == "ringing":
        return _answered(view, now)
    if kind == "PauseAgent" and output.get("agent_id") == me:
        return replace(view, intent="paused", pause_reason=str(output.get("reason", "")))
    if kind == "CallFinished" and current is not None and output.get("call_id") == current:
        if view.activity in ("ringing", "talking"):
            return _ended(view, now, wrap_up_seconds)
    return view


def _answered(view: AgentView, now: float) -> AgentView:
    call = replace(view.call, answered_at=now) if view.call else None
    return replace(view, activity="talking", since=now, call=call)


def _ended(view: AgentView, now: float, wrap_up_seconds: WrapUp) -> AgentView:
    if view.activity == "ringing":
        return replace(view, activity="idle", call=None, since=now)
    if view.activity != "talking":
        return view
    wrap = wrap_up_seconds(view.call.topic if view.call else "general")
    if wrap <= 0 or view.intent == "offline":
        return replace(view, activity="idle", call=None, since=now)
    return replace(view, activity="wrap_up", wrap_until=now + wrap, since=now)


def _since(view: AgentView, now: float) -> float:
    """A change of intent restarts the clock only when the operator is not busy."""
    return now if view.activity == "idle" else view.since


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _json_list(text: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []
