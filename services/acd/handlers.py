"""Event handlers of the ACD core, one function per event type.

They are part of the router (``router.RouterState`` calls them through ``HANDLERS``) and work on
its internals directly; nothing outside the core should call them, except that the simulator
calls ``arrive`` and ``end_call`` (the code of ``on_arrived`` and ``on_call_ended``) with the
event's fields, in quiet mode, where the commonest outcomes are returned instead of recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from services.acd import callbacks
from services.acd import commands as c
from services.acd import events as e
from services.acd.model import (
    BUSY_RINGING,
    BUSY_TALKING,
    CALL,
    CALLBACK,
    DIALLING,
    DONE,
    IDLE,
    OFFLINE,
    PAUSED,
    READY,
    RINGING,
    T_DEADLINE,
    T_RELAX,
    T_WRAP,
    TALKING,
    WRAPUP,
    Agent,
    Item,
    qualification,
)

if TYPE_CHECKING:
    from services.acd.router import RouterState

_new = tuple.__new__


def on_arrived(state: RouterState, ev: e.CallArrived, now: float, out: list[c.Command]) -> None:
    arrive(state, ev[0], ev[1], ev[2], ev[3], ev[4], ev[6], ev[7], now, out)


def arrive(
    state: RouterState,
    call_id: str,
    centre: str,
    topic: str,
    language: str,
    priority: int,
    caller: str,
    overflowed_from: str,
    now: float,
    out: list[c.Command],
    quiet: bool = False,
) -> bool:
    """``on_arrived`` with the event's fields as arguments, for the simulator (no event record).

    With ``quiet``, a call connected at once to an agent on auto-answer, with nothing else to
    record, is not recorded (no ``ConnectAgent``: the simulator acts it out itself) and the
    result is True; otherwise every command is in ``out`` and the result is False.
    """
    items = state.items
    if call_id in items:
        return False
    if centre != state._centre:
        raise ValueError(f"call {call_id} is for centre {centre!r}, not {state._centre!r}")
    if state.emergency is not None or state._night_possible:
        if state.emergency is not None:
            out.append(c.Announce(state._next_seq(), call_id, "emergency", 0, 0.0, state.emergency))
        if state._night_possible and state.is_night(now):
            out.append(c.PlayAutoAttendant(state._next_seq(), call_id, "night_mode"))
            out.append(c.CallFinished(state._next_seq(), call_id, "night"))
            return False
    policy = state._policies.get(topic) or state._default_topic
    bucket = state.buckets.get((topic, language)) or state._bucket(topic, language)
    level = policy.required_level
    item = Item(
        call_id,
        CALL,
        bucket,
        policy,
        priority,
        now,
        now + state._answer_within,
        level,
        caller,
        overflowed_from,
    )
    if policy.relax and state._relaxation:
        item.relax = tuple((now + s.after_seconds, s.min_level) for s in policy.relax)
    items[call_id] = item
    if bucket.ready_count:
        ready = bucket.ready
        for agent_level in bucket.levels:
            if agent_level < level:
                break
            agents = ready[agent_level]
            if agents:
                # ``RouterState._offer`` spelled out for a fresh call and a ready agent (the hot
                # path of every call answered at once): no line to leave, waited 0, no estimate.
                agent = next(iter(agents.values()))
                agent_id = agent.id
                for member, member_level in agent.memberships:
                    del member.ready[member_level][agent_id]
                    member.ready_count -= 1
                agent.item = item
                item.agent = agent
                state.seq += 1
                auto = state._auto_answer
                if auto:
                    item.state = TALKING
                    agent.activity = BUSY_TALKING
                    item.connected_at = now
                    agent.misses = 0
                    if caller and state.pending_callers:
                        callbacks.close_callback(state, caller, out)
                    elif quiet:
                        return True
                else:
                    item.state = RINGING
                    agent.activity = BUSY_RINGING
                connect = (
                    state.seq,
                    call_id,
                    agent_id,
                    state._ring_timeout,
                    auto,
                    0.0,
                    0.0,
                    agent_level,
                )
                out.append(_new(c.ConnectAgent, connect))
                return False
    # Nobody free who may take it: estimate, maybe act at once, else queue
    # (``Bucket.calls_ahead`` spelled out).
    ahead = 0
    for lane in bucket.lanes:  # highest priority first
        if lane.priority < priority:
            break
        ahead += lane.live
    item.expected_wait = wait = state._estimate(bucket, ahead, policy)
    if state._guarantee and wait > state._deadline:
        state._act_before_deadline(item, now, "estimate", out)
        if item.state == DONE:
            return False
        wait = item.expected_wait
    # The call joins its line at ``position``.
    position = ahead + 1
    lane = bucket.lane_index.get(priority) or bucket.lane(priority)
    lane.items.append(item)
    lane.live += 1
    bucket.waiting += 1
    item.lane = lane
    state.seq += 1
    out.append(_new(c.Queued, (state.seq, call_id, position, wait)))
    if state._announce:
        state.seq += 1
        out.append(c.Announce(state.seq, call_id, "position", position, wait))
    if state._guarantee and not item.acted:
        state._push_timer(now + state._deadline, T_DEADLINE, call_id)
    for at, _ in item.relax:
        state._push_timer(at, T_RELAX, call_id)
    return False


def on_hung_up(state: RouterState, ev: e.CallerHungUp, now: float, out: list[c.Command]) -> None:
    item = state.items.get(ev.call_id)
    if item is None:
        return
    if item.state == TALKING:
        end_call(state, item.id, now, out)
        return
    if item.kind == CALLBACK:
        callbacks.cancel(state, item, now, out)
        return
    agent = item.agent
    state._finish(item, "abandoned", out)
    if agent is not None:
        out.append(c.StopRinging(state._next_seq(), item.id, agent.id))
        state._after_call(agent, now, out)


def on_answered(state: RouterState, ev: e.AgentAnswered, now: float, out: list[c.Command]) -> None:
    item = state.items.get(ev.call_id)
    if item is None or item.state != RINGING or item.agent is None:
        return
    if item.agent.id != ev.agent_id:
        return
    if item.kind == CALLBACK:
        callbacks.on_agent_answered_callback(state, item)
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
    if item.caller and state.pending_callers:
        callbacks.close_callback(state, item.caller, out)


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
    end_call(state, ev[0], now, out)


def end_call(
    state: RouterState, call_id: str, now: float, out: list[c.Command], quiet: bool = False
) -> Item | bool:
    """``on_call_ended`` with the call id as argument, for the simulator (no event record).

    The result says whether a talking call (not a callback) ended; the commands are in ``out``.
    With ``quiet``, that call's ``CallFinished`` ("answered") is not recorded, and if its agent
    takes the head of the line on auto-answer with nothing else to record, the head is the
    result instead of a ``ConnectAgent`` record (the simulator acts both out itself).
    """
    item = state.items.get(call_id)
    if item is None:
        return False
    if item.state != TALKING or item.kind != CALL:
        if item.kind == CALL:
            on_hung_up(state, e.CallerHungUp(call_id), now, out)
        elif item.state == TALKING:
            callbacks.end_talk(state, item, "callback_done", now, out)
        elif item.state == DIALLING:  # the bridge gave up on the citizen leg
            callbacks.attempt_failed(state, item, "failed", now, out)
        return False
    # Hot path of every answered call: record, finish, then wrap up or take the next item
    # (``RouterState._wrap_up`` spelled out).
    agent = item.agent
    assert agent is not None
    item.state = DONE
    del state.items[item.id]
    state.seq += 1
    item.bucket.handle.append(now - item.connected_at)
    if not quiet:
        out.append(_new(c.CallFinished, (state.seq, item.id, "answered")))
    wrap = item.policy.wrap_up_seconds
    intent = agent.intent
    if intent == OFFLINE:
        state._after_call(agent, now, out)
    elif wrap:
        agent.activity = WRAPUP
        agent.item = None
        agent.wrap_token = state._push_timer(now + wrap, T_WRAP, agent.id)
    elif intent == READY and len(agent.memberships) == 1:
        # ``RouterState._make_idle`` spelled out for an agent of one bucket (the hot path).
        bucket, level = agent.memberships[0]
        head = None
        if bucket.waiting:
            lanes = bucket.lanes
            if bucket.callbacks_live or len(lanes) != 1:
                state._make_idle(agent, now, out)
                return True
            # One line and no callbacks: its head is the agent's best item if it accepts the
            # agent (``RouterState._best_item`` spelled out).
            lane = lanes[0]
            head = lane.head()
            if (head.min_level(now) if head.relax else head.level) > level:
                head = None
        if head is None:
            agent.activity = IDLE
            agent.item = None
            agent.idle_since = now
            bucket.ready[level][agent.id] = agent
            bucket.ready_count += 1
            return True
        # ``RouterState._offer`` spelled out for the head of a line.
        lane.items.popleft()
        lane.live -= 1
        bucket.waiting -= 1
        head.lane = None
        agent.item = head
        head.agent = agent
        state.seq += 1
        auto = state._auto_answer
        if auto:
            head.state = TALKING
            agent.activity = BUSY_TALKING
            head.connected_at = now
            agent.misses = 0
            if head.caller and state.pending_callers:
                callbacks.close_callback(state, head.caller, out)
            elif quiet:
                return head
        else:
            head.state = RINGING
            agent.activity = BUSY_RINGING
        connect = (
            state.seq,
            head.id,
            agent.id,
            state._ring_timeout,
            auto,
            now - head.arrived,
            head.expected_wait,
            level,
        )
        out.append(_new(c.ConnectAgent, connect))
    else:
        state._make_idle(agent, now, out)
    return True


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
                bucket = state._bucket(topic, language)
                agent.memberships.append((bucket, level))
                if level not in bucket.levels:
                    bucket.levels.append(level)
                    bucket.levels.sort(reverse=True)
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
    callbacks.dispatch_callbacks(state, now, out)  # callbacks held back by a forced night


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
    e.CallbackRequested: callbacks.on_callback_requested,
    e.CallbackDeclined: on_callback_declined,
    e.CallbackResult: callbacks.on_callback_result,
    e.CallbackCancelled: callbacks.on_callback_cancelled,
    e.TransferRequested: callbacks.on_transfer,
    e.ScheduleTick: on_tick,
    e.NightModeOverride: on_night_override,
    e.EmergencyMode: on_emergency,
}
