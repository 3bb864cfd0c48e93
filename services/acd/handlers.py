"""Event handlers of the ACD core, one function per event type.

They are part of the router (``router.RouterState`` calls them through ``HANDLERS``) and work on
its internals directly; nothing outside the core should call them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import MAX_LEVEL
from services.acd.model import (
    BUSY_RINGING,
    BUSY_TALKING,
    CALL,
    CALLBACK,
    DONE,
    IDLE,
    OFFLINE,
    PAUSED,
    READY,
    RINGING,
    T_WRAP,
    TALKING,
    WAITING,
    WRAPUP,
    Agent,
    Item,
    qualification,
)

if TYPE_CHECKING:
    from services.acd.router import RouterState

_new = tuple.__new__


def on_arrived(state: RouterState, ev: e.CallArrived, now: float, out: list[c.Command]) -> None:
    call_id = ev.call_id
    if call_id in state.items:
        return
    if ev.centre != state._centre:
        raise ValueError(f"call {call_id} is for centre {ev.centre!r}, not {state._centre!r}")
    if state.emergency is not None or state._night_possible:
        if state.emergency is not None:
            out.append(c.Announce(state._next_seq(), call_id, "emergency", 0, 0.0, state.emergency))
        if state._night_possible and state.is_night(now):
            out.append(c.PlayAutoAttendant(state._next_seq(), call_id, "night_mode"))
            out.append(c.CallFinished(state._next_seq(), call_id, "night"))
            return
    topic = ev.topic
    policy = state._policies.get(topic) or state._default_topic
    bucket = state.buckets.get((topic, ev.language)) or state._bucket(topic, ev.language)
    item = Item(
        call_id,
        CALL,
        bucket,
        policy,
        ev.priority,
        now,
        now + state._answer_within,
        policy.required_level,
        ev.caller,
        ev.overflowed_from,
    )
    if policy.relax and state._relaxation:
        item.relax = tuple((now + s.after_seconds, s.min_level) for s in policy.relax)
    state.items[call_id] = item
    if bucket.ready_count:
        ready = bucket.ready
        for level in range(MAX_LEVEL, item.level - 1, -1):
            agents = ready[level]
            if agents:
                state._offer(item, next(iter(agents.values())), level, now, out, True)
                return
    # Nobody free who may take it: estimate, maybe act at once, else queue.
    item.expected_wait = state.estimate(bucket, item.priority)
    if state._guarantee and item.expected_wait > state._deadline:
        state._act_before_deadline(item, now, "estimate", out)
        if item.state == DONE:
            return
    state._enqueue(item, now, out)


def on_hung_up(state: RouterState, ev: e.CallerHungUp, now: float, out: list[c.Command]) -> None:
    item = state.items.get(ev.call_id)
    if item is None:
        return
    if item.state == TALKING:
        on_call_ended(state, e.CallEnded(item.id), now, out)
        return
    agent = item.agent
    state._finish(item, "abandoned" if item.kind == CALL else "callback_cancelled", out)
    if agent is not None:
        out.append(c.StopRinging(state._next_seq(), item.id, agent.id))
        state._after_call(agent, now, out)


def on_answered(state: RouterState, ev: e.AgentAnswered, now: float, out: list[c.Command]) -> None:
    item = state.items.get(ev.call_id)
    if item is None or item.state != RINGING or item.agent is None:
        return
    if item.agent.id != ev.agent_id:
        return
    item.state = TALKING
    item.connected_at = now
    item.agent.activity = BUSY_TALKING
    item.agent.misses = 0
    out.append(
        c.CallAnswered(
            state._next_seq(), item.id, ev.agent_id, now - item.arrived, item.expected_wait
        )
    )


def on_no_answer(state: RouterState, ev: e.AgentNoAnswer, now: float, out: list[c.Command]) -> None:
    item = state.items.get(ev.call_id)
    agent = state.agents.get(ev.agent_id)
    if item is None or agent is None or item.state != RINGING or item.agent is not agent:
        return
    state._requeue(item)
    agent.misses += 1
    if agent.intent == READY and agent.misses >= state.config.max_missed_rings:
        agent.intent = PAUSED
        agent.pause_reason = "no_answer"
        state._set_staffed(agent, -1)
        out.append(c.PauseAgent(state._next_seq(), agent.id, "no_answer"))
    # The call first goes to another ready agent; this one is free again only afterwards.
    state._after_requeue(item, now, out)
    state._after_call(agent, now, out)


def on_call_ended(state: RouterState, ev: e.CallEnded, now: float, out: list[c.Command]) -> None:
    item = state.items.get(ev.call_id)
    if item is None:
        return
    if item.state != TALKING:
        on_hung_up(state, e.CallerHungUp(ev.call_id), now, out)
        return
    # Hot path of every answered call: record, finish, then wrap up or take the next item.
    agent = item.agent
    assert agent is not None
    item.state = DONE
    del state.items[item.id]
    state.seq += 1
    if item.kind == CALL:
        item.bucket.handle.append(now - item.connected_at)
        out.append(_new(c.CallFinished, (state.seq, item.id, "answered")))
    else:
        out.append(c.CallFinished(state.seq, item.id, "callback_done"))
    wrap = item.policy.wrap_up_seconds
    if agent.intent == OFFLINE:
        state._after_call(agent, now, out)
    elif wrap:
        agent.activity = WRAPUP
        agent.item = None
        agent.wrap_token = state._push_timer(now + wrap, T_WRAP, agent.id)
    else:
        state._make_idle(agent, now, out)


def on_logged_in(state: RouterState, ev: e.AgentLoggedIn, now: float, out: list[c.Command]) -> None:
    known = state.agents.get(ev.agent_id)
    if known is not None:
        if known.intent == OFFLINE:  # logged out during a call, back before it ended
            known.intent = PAUSED
            known.pause_reason = "logged_in"
        return
    agent = Agent(ev.agent_id, dict(ev.skills), dict(ev.languages))
    for topic, topic_level in sorted(agent.skills.items()):
        for language, language_level in sorted(agent.languages.items()):
            level = qualification(topic_level, language_level)
            if level > 0:
                agent.memberships.append((state._bucket(topic, language), level))
    state.agents[ev.agent_id] = agent


def on_logged_out(
    state: RouterState, ev: e.AgentLoggedOut, now: float, out: list[c.Command]
) -> None:
    agent = state.agents.get(ev.agent_id)
    if agent is None:
        return
    if agent.intent == READY:
        state._set_staffed(agent, -1)
        if agent.activity == IDLE:
            state._unready(agent)
    agent.intent = OFFLINE
    if agent.activity == BUSY_RINGING and agent.item is not None:
        item = agent.item
        out.append(c.StopRinging(state._next_seq(), item.id, agent.id))
        state._requeue(item)
        del state.agents[agent.id]
        state._after_requeue(item, now, out)
    elif agent.activity == IDLE:
        del state.agents[agent.id]


def on_ready(state: RouterState, ev: e.AgentReady, now: float, out: list[c.Command]) -> None:
    agent = state.agents.get(ev.agent_id)
    if agent is None or agent.intent != PAUSED:
        return
    agent.intent = READY
    agent.misses = 0
    state._set_staffed(agent, 1)
    if agent.activity == IDLE:
        state._make_idle(agent, now, out)


def on_paused(state: RouterState, ev: e.AgentPaused, now: float, out: list[c.Command]) -> None:
    agent = state.agents.get(ev.agent_id)
    if agent is None or agent.intent == OFFLINE:
        return
    agent.pause_reason = ev.reason
    if agent.intent == READY:
        agent.intent = PAUSED
        state._set_staffed(agent, -1)
        if agent.activity == IDLE:
            state._unready(agent)


def on_wrap_up_ended(
    state: RouterState, ev: e.WrapUpEnded, now: float, out: list[c.Command]
) -> None:
    agent = state.agents.get(ev.agent_id)
    if agent is not None and agent.activity == WRAPUP:
        state._after_call(agent, now, out)


def on_neighbour(
    state: RouterState, ev: e.NeighbourStatus, now: float, out: list[c.Command]
) -> None:
    state.neighbours[ev.centre] = ev


def on_callback_requested(
    state: RouterState, ev: e.CallbackRequested, now: float, out: list[c.Command]
) -> None:
    if ev.callback_id in state.items:
        return
    call = state.items.get(ev.call_id) if ev.call_id else None
    if call is not None:
        if call.state != WAITING:  # an agent got there first: the caller is being served
            reason = "callback_request_ignored: call already connected"
            out.append(c.Decision(state._next_seq(), call.id, "keep_call", reason))
            return
        state._finish(call, "callback", out)
    config = state.config
    bucket = state._bucket(ev.topic, ev.language)
    due = now + config.callback_within_seconds - config.callback_lead_seconds
    item = Item(
        ev.callback_id,
        CALLBACK,
        bucket,
        config.topic(ev.topic),
        ev.priority,
        now,
        due,
        1,
        ev.caller,
        "",
    )
    state.items[ev.callback_id] = item
    state._enqueue(item, now, out)
    state._place(item, now, out)


def on_callback_declined(
    state: RouterState, ev: e.CallbackDeclined, now: float, out: list[c.Command]
) -> None:
    if ev.call_id in state.items:
        out.append(c.Decision(state._next_seq(), ev.call_id, "keep_waiting", "callback_declined"))


def on_tick(state: RouterState, ev: e.ScheduleTick, now: float, out: list[c.Command]) -> None:
    """Timers already fired in ``apply``; a tick carries nothing else."""


def on_night_override(
    state: RouterState, ev: e.NightModeOverride, now: float, out: list[c.Command]
) -> None:
    if ev.mode not in ("auto", "night", "day"):
        raise ValueError(f"night mode override must be auto, night or day, not {ev.mode!r}")
    state.night_override = ev.mode
    state._night_possible = ev.mode != "auto" or state.config.night.enabled


def on_emergency(state: RouterState, ev: e.EmergencyMode, now: float, out: list[c.Command]) -> None:
    state.emergency = ev.announcement if ev.active else None


Handler = Callable[["RouterState", Any, float, list[c.Command]], None]

HANDLERS: dict[type[Any], Handler] = {
    e.CallArrived: on_arrived,
    e.CallerHungUp: on_hung_up,
    e.AgentLoggedIn: on_logged_in,
    e.AgentLoggedOut: on_logged_out,
    e.AgentReady: on_ready,
    e.AgentPaused: on_paused,
    e.AgentAnswered: on_answered,
    e.AgentNoAnswer: on_no_answer,
    e.CallEnded: on_call_ended,
    e.WrapUpEnded: on_wrap_up_ended,
    e.NeighbourStatus: on_neighbour,
    e.CallbackRequested: on_callback_requested,
    e.CallbackDeclined: on_callback_declined,
    e.ScheduleTick: on_tick,
    e.NightModeOverride: on_night_override,
    e.EmergencyMode: on_emergency,
}
