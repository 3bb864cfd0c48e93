"""Live figures for the wallboard and the supervisor console, as pure functions of the router
state. The router process writes `live_document` to Redis every second (`services/router/live.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.acd.model import (
    BUSY_RINGING,
    BUSY_TALKING,
    CALL,
    CALLBACK,
    IDLE,
    PAUSED,
    READY,
    STATE_NAMES,
    T_WRAP,
    WAITING,
    WRAPUP,
    Agent,
    Item,
)
from services.acd.router import RouterState
from services.common.masking import mask_text

_ACTIVITY = {IDLE: "ready", BUSY_RINGING: "ringing", BUSY_TALKING: "talking", WRAPUP: "wrap_up"}


def wallboard(state: RouterState, now: float) -> dict[str, Any]:
    """Waiting calls and expected wait per topic, longest wait, callbacks, agents by state.

    ``now`` is Unix seconds, like everywhere in the core; it only turns timestamps into ages.
    """
    waiting: dict[str, int] = {}
    callbacks: dict[str, int] = {}
    longest = 0.0
    for item in state.items.values():
        if item.state != WAITING:
            continue
        if item.kind == CALL:
            waiting[item.topic] = waiting.get(item.topic, 0) + 1
            longest = max(longest, now - item.arrived)
        elif item.kind == CALLBACK:
            callbacks[item.topic] = callbacks.get(item.topic, 0) + 1
    agents = {"ready": 0, "ringing": 0, "talking": 0, "wrap_up": 0, "paused": 0}
    paused: dict[str, int] = {}
    longest_idle = 0.0
    for agent in state.agents.values():
        if agent.intent == PAUSED and agent.activity == IDLE:
            agents["paused"] += 1
            paused[agent.pause_reason] = paused.get(agent.pause_reason, 0) + 1
        elif agent.intent == READY or agent.activity != IDLE:
            agents[_ACTIVITY[agent.activity]] += 1
            if agent.activity == IDLE:
                longest_idle = max(longest_idle, now - agent.idle_since)
    return {
        "centre": state.config.centre,
        "night_mode": state.is_night(now),
        "emergency": state.emergency is not None,
        "waiting_by_topic": dict(sorted(waiting.items())),
        "callbacks_by_topic": dict(sorted(callbacks.items())),
        "longest_wait_seconds": round(longest, 1),
        "expected_wait_by_topic": advertised_waits(state),
        "agents": agents,
        "paused_by_reason": dict(sorted(paused.items())),
        "longest_idle_seconds": round(longest_idle, 1),
    }


def advertised_waits(state: RouterState) -> dict[str, float]:
    """What this centre tells its neighbours: the best expected wait per topic it staffs."""
    waits: dict[str, float] = {}
    for (topic, _language), bucket in sorted(state.buckets.items()):
        if not bucket.staffed:
            continue
        wait = 0.0 if bucket.ready_count else state.estimate(bucket, 0)
        waits[topic] = min(wait, waits.get(topic, wait))
    return waits


def agent_state(agent: Agent) -> str:
    """What the agent is doing now (ready, ringing, talking, wrap_up, paused, offline): busy
    activities win over the agent's own intent."""
    if agent.activity != IDLE:
        return _ACTIVITY[agent.activity]
    if agent.intent == READY:
        return "ready"
    return "paused" if agent.intent == PAUSED else "offline"


def agents_touched(state: RouterState, event: object, now: float) -> set[str]:
    """Agents whose state ``event`` (applied at ``now``) may change, looked up BEFORE applying it:
    the agent it names, the agent serving the call it names, agents whose wrap-up ends by now.
    Agents named by the outputs are added by the caller (`agents_named`)."""
    touched: set[str] = set()
    agent_id = getattr(event, "agent_id", None)
    if isinstance(agent_id, str):
        touched.add(agent_id)
    for field in ("call_id", "callback_id"):
        ref = getattr(event, field, None)
        item = state.items.get(ref) if isinstance(ref, str) else None
        if item is not None and item.agent is not None:
            touched.add(item.agent.id)
    # Due timers only: walk the heap from its root, never below an entry that is not due yet.
    timers = state.timers
    stack = [0] if timers and timers[0][0] <= now else []
    while stack:
        index = stack.pop()
        _due, _token, kind, ref = timers[index]
        if kind == T_WRAP:
            touched.add(ref)
        for child in (2 * index + 1, 2 * index + 2):
            if child < len(timers) and timers[child][0] <= now:
                stack.append(child)
    return touched


def agents_named(outputs: Iterable[object]) -> set[str]:
    """Agents the router's outputs name (offered a call, paused, told to stop ringing)."""
    return {a for a in (getattr(o, "agent_id", None) for o in outputs) if isinstance(a, str)}


class StateSince:
    """When each agent entered its current state: the core keeps no such time, so the shell
    remembers state changes as it applies events (replay included, so it survives restarts).
    Agents who logged out stay listed as "offline" from the moment they left."""

    def __init__(self) -> None:
        self.states: dict[str, tuple[str, float]] = {}

    def update(self, state: RouterState, agent_ids: Iterable[str], now: float) -> None:
        """Record the current state of ``agent_ids`` after an event applied at ``now``."""
        for agent_id in agent_ids:
            agent = state.agents.get(agent_id)
            current = agent_state(agent) if agent is not None else "offline"
            known = self.states.get(agent_id)
            if known is None or known[0] != current:
                self.states[agent_id] = (current, now)

    def sweep(self, state: RouterState, now: float) -> None:
        """Catch changes no event named (a timer that fired inside another event)."""
        self.update(state, set(state.agents) | set(self.states), now)


def mask_caller(number: str) -> str:
    """A caller's number for a screen: all but the last two digits hidden."""
    masked = mask_text(number)
    if masked != number or not number:
        return masked
    digits = [ch for ch in number if ch.isdigit()]
    return "*" * max(0, len(digits) - 2) + "".join(digits[-2:])


def _callback_entry(item: Item) -> dict[str, Any]:
    return {
        "callback_id": item.id,
        "topic": item.topic,
        "due_at": round(item.due_at, 3),
        "deadline": round(item.deadline, 3),
        "attempt": item.attempt,
        "state": STATE_NAMES.get(item.state, "waiting"),
    }


def live_document(
    state: RouterState,
    now: float,
    since: Mapping[str, tuple[str, float]],
    figures: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `<prefix>:live` document: wallboard figures, agents with time in state, waiting
    callers (numbers masked) and open callbacks. ``since`` comes from `StateSince`; ``figures``
    are counted ones the state does not hold (service level, today's outcomes), added to the
    wallboard part."""
    agents = []
    for agent_id in sorted(set(state.agents) | set(since)):
        agent = state.agents.get(agent_id)
        current = agent_state(agent) if agent is not None else "offline"
        known = since.get(agent_id)
        entered = known[1] if known is not None and known[0] == current else now
        item = agent.item if agent is not None else None
        agents.append(
            {
                "id": agent_id,
                "state": current,
                "since": round(entered, 3),
                "call_id": item.id if item is not None else None,
                "topic": item.topic if item is not None else None,
                "pause_reason": agent.pause_reason
                if agent is not None and current == "paused"
                else None,
            }
        )
    waiting: list[dict[str, Any]] = []
    callbacks: list[dict[str, Any]] = []
    for item in state.items.values():
        if item.kind == CALLBACK:
            callbacks.append(_callback_entry(item))
        elif item.state == WAITING:
            waiting.append(
                {
                    "call_id": item.id,
                    "topic": item.topic,
                    "waited": round(now - item.arrived, 1),
                    "expected_wait": round(item.expected_wait, 1),
                    "caller_masked": mask_caller(item.caller),
                }
            )
    waiting.sort(key=lambda w: -w["waited"])
    callbacks.sort(key=lambda cb: (cb["deadline"], cb["callback_id"]))
    return {
        "at": round(now, 3),
        "wallboard": {**wallboard(state, now), **(figures or {})},
        "agents": agents,
        "waiting": waiting,
        "callbacks": callbacks,
    }
