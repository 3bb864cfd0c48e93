"""Live figures for the wallboard, as a pure function of the router state."""

from __future__ import annotations

from typing import Any

from services.acd.model import (
    BUSY_RINGING,
    BUSY_TALKING,
    CALL,
    CALLBACK,
    IDLE,
    PAUSED,
    READY,
    WAITING,
    WRAPUP,
)
from services.acd.router import RouterState

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
