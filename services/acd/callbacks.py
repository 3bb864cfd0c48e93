"""Callbacks and transfers in the ACD core: requests, dialling results, retries, cancellation.

Part of the router like ``handlers`` (it works on ``RouterState`` internals). A callback's life:
``SCHEDULED`` until its due time (a timer), ``WAITING`` in its bucket's deadline-ordered heap,
``RINGING`` while the reserved agent's seat rings, ``DIALLING`` once the agent answered and the
citizen is called, ``TALKING`` when the citizen answered. A failed attempt frees the agent at
once (no wrap-up) and schedules a retry until ``callback_max_attempts`` is used up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.acd import commands as c
from services.acd import events as e
from services.acd.model import (
    BUSY_TALKING,
    CALL,
    CALLBACK,
    DIALLING,
    DONE,
    RINGING,
    SCHEDULED,
    T_CALLBACK,
    T_HOURS,
    TALKING,
    WAITING,
    Item,
)
from services.acd.schedule import callback_due_from, next_allowed

if TYPE_CHECKING:
    from services.acd.router import RouterState

RESULTS = ("answered", "busy", "no_answer", "hung_up", "failed")
SOURCES = ("queue", "callback_line", "night", "operator")


def on_callback_requested(
    state: RouterState, ev: e.CallbackRequested, now: float, out: list[c.Command]
) -> None:
    if ev.callback_id in state.items:
        return
    # Only a queued caller's accepted offer replaces that call; a callback an operator books
    # during a conversation (source "operator") merely cites it.
    call = state.items.get(ev.call_id) if ev.call_id and ev.source == "queue" else None
    if call is not None:
        if call.state != WAITING:  # an agent got there first: the caller is being served
            reason = "callback_request_ignored: call already connected"
            out.append(c.Decision(state._next_seq(), call.id, "keep_call", reason))
            return
        state._finish(call, "callback", out)
    config = state.config
    requested_at = ev.requested_at or now
    night = ev.source == "night" or state.is_night(now) or config.night.is_night(requested_at)
    due_at = due_from(state, requested_at, night)
    deadline = due_at + config.callback_within_seconds
    # The line position: a queued caller keeps the time they first joined.
    position = call.arrived if call is not None else due_at
    pending = state.pending_callers.get(ev.caller) if ev.caller else None
    if pending is not None:
        reason = f"callback_merged: {pending.id} is pending for this number"
        out.append(c.Decision(state._next_seq(), ev.callback_id, "merge", reason))
        out.append(c.CallFinished(state._next_seq(), ev.callback_id, "callback_merged"))
        if deadline < pending.deadline and pending.state in (SCHEDULED, WAITING):
            _tighten(state, pending, due_at, deadline, position, now, out)
        return
    item = Item(
        ev.callback_id,
        CALLBACK,
        state._bucket(ev.topic, ev.language),
        config.topic(ev.topic),
        ev.priority,
        requested_at,
        position + config.answer_within_seconds,
        1,
        ev.caller,
        "",
    )
    item.source = ev.source
    state.items[item.id] = item
    if ev.caller:
        state.pending_callers[ev.caller] = item
    _schedule(state, item, due_at, deadline, now, out)


def _schedule(
    state: RouterState, item: Item, due_at: float, deadline: float, now: float, out: list[c.Command]
) -> None:
    """Record the promise, then wait for the due time or join the line at once."""
    item.due_at = due_at
    item.deadline = deadline
    record = c.CallbackScheduled(
        state._next_seq(),
        item.id,
        item.caller,
        item.topic,
        item.source,
        item.arrived,
        due_at,
        deadline,
        item.attempt,
    )
    out.append(record)
    if due_at > now:
        item.state = SCHEDULED
        item.token = state._push_timer(due_at, T_CALLBACK, item.id)
    else:
        queue(state, item)
        state._place(item, now, out)


def _tighten(
    state: RouterState,
    pending: Item,
    due_at: float,
    deadline: float,
    position: float,
    now: float,
    out: list[c.Command],
) -> None:
    """A merged duplicate promised sooner: the pending callback takes the earlier promise."""
    pending.due = min(pending.due, position + state.config.answer_within_seconds)
    if pending.state == WAITING:
        unqueue(state, pending)  # re-pushed below under its new deadline
        due_at = pending.due_at
    else:
        due_at = min(due_at, pending.due_at)
    _schedule(state, pending, due_at, deadline, now, out)


def on_callback_result(
    state: RouterState, ev: e.CallbackResult, now: float, out: list[c.Command]
) -> None:
    item = state.items.get(ev.callback_id)
    agent = None if item is None else item.agent
    if item is None or item.state != DIALLING or agent is None or agent.id != ev.agent_id:
        reason = f"callback_result {ev.result}: not dialling by {ev.agent_id}"
        out.append(c.Decision(state._next_seq(), ev.callback_id, "ignore", reason))
        return
    if ev.result == "answered":
        item.state = TALKING
        item.connected_at = now
        waited = now - item.arrived
        out.append(c.CallAnswered(state._next_seq(), item.id, agent.id, waited, 0.0))
        return
    attempt_failed(state, item, ev.result, now, out)


def attempt_failed(
    state: RouterState, item: Item, result: str, now: float, out: list[c.Command]
) -> None:
    """Record the attempt, free the agent (no wrap-up), then retry later or give up."""
    agent = item.agent
    assert agent is not None
    out.append(c.CallbackAttempted(state._next_seq(), item.id, agent.id, item.attempt, result))
    item.agent = None
    config = state.config
    if item.attempt >= config.callback_max_attempts:
        state._finish(item, "callback_failed", out)
    else:
        item.attempt += 1
        due_at = due_from(state, now + config.callback_retry_seconds, False)
        item.due = due_at + config.answer_within_seconds
        _schedule(state, item, due_at, due_at + config.callback_within_seconds, now, out)
    state._after_call(agent, now, out)


def on_callback_cancelled(
    state: RouterState, ev: e.CallbackCancelled, now: float, out: list[c.Command]
) -> None:
    item = state.items.get(ev.callback_id)
    if item is None or item.kind != CALLBACK or item.state == TALKING:
        # A citizen already talking to the operator is not cut off: the callback ends with
        # the conversation (``callback_done``), and the agent is not freed while still busy.
        why = "already talking" if item is not None and item.state == TALKING else "not pending"
        reason = f"callback_cancel {ev.reason}: {why}"
        out.append(c.Decision(state._next_seq(), ev.callback_id, "ignore", reason))
        return
    out.append(c.Decision(state._next_seq(), item.id, "cancel", ev.reason))
    cancel(state, item, now, out)


def cancel(state: RouterState, item: Item, now: float, out: list[c.Command]) -> None:
    """Stop a callback not yet talking; a reserved agent is freed at once (no wrap-up), and
    the bridge is told to drop the seat's leg and any ringing citizen leg."""
    agent = item.agent
    ringing = item.state in (RINGING, DIALLING)
    state._finish(item, "callback_cancelled", out)
    if agent is not None:
        if ringing:
            out.append(c.StopRinging(state._next_seq(), item.id, agent.id))
        state._after_call(agent, now, out)


def on_agent_answered_callback(state: RouterState, item: Item) -> None:
    """The operator took the callback leg: the bridge now dials the citizen."""
    agent = item.agent
    assert agent is not None
    item.state = DIALLING
    agent.activity = BUSY_TALKING
    agent.misses = 0


def on_transfer(
    state: RouterState, ev: e.TransferRequested, now: float, out: list[c.Command]
) -> None:
    item = state.items.get(ev.call_id)
    reason = ""
    if item is None:
        reason = "unknown call"
    elif item.kind == CALLBACK:
        reason = "a callback is the operator's own call: it cannot be transferred"
    elif item.state != TALKING or item.agent is None:
        reason = "call is not connected"
    elif item.agent.id != ev.agent_id:
        reason = f"call is connected to another agent, not {ev.agent_id}"
    elif not ev.number:
        reason = "no number to transfer to"
    if item is None or reason:
        out.append(c.Decision(state._next_seq(), ev.call_id, "transfer_refused", reason))
        return
    out.append(c.TransferCall(state._next_seq(), item.id, ev.number))
    end_talk(state, item, "transferred", now, out)


def end_talk(
    state: RouterState, item: Item, outcome: str, now: float, out: list[c.Command]
) -> None:
    """A connected call or callback is over: record, finish, then wrap up or take the next item."""
    agent = item.agent
    assert agent is not None
    if item.kind == CALL:
        item.bucket.handle.append(now - item.connected_at)
    elif state.pending_callers.get(item.caller) is item:
        del state.pending_callers[item.caller]
    item.state = DONE
    del state.items[item.id]
    out.append(c.CallFinished(state._next_seq(), item.id, outcome))
    state._wrap_up(agent, item, now, out)


def callbacks_open(state: RouterState, now: float) -> bool:
    """Whether citizens may be called now: inside ``callback_hours`` and not night mode."""
    minute = int(now // 60)
    if minute != state._hours_minute:
        config = state.config
        state._hours_minute = minute
        hours, zone = config.callback_hours, config.night.timezone
        state._hours_value = next_allowed(hours, zone, now) == now
    return state._hours_value and not state.is_night(now)


def due_from(state: RouterState, requested_at: float, night: bool) -> float:
    """First moment a callback requested at ``requested_at`` may be dialled."""
    config = state.config
    return callback_due_from(config.night, config.callback_hours, requested_at, night)


def callback_first(
    state: RouterState, callback: Item, call: Item | None, call_key: tuple[int, float], now: float
) -> bool:
    """Whether the agent dials ``callback`` rather than taking ``call`` (the rule in acd.md)."""
    if not callbacks_open(state, now):
        wait_for_callback_hours(state, now)
        return False
    if call is None or callback.deadline - now <= state._callback_lead:
        return True
    return (-callback.priority, callback.due) < call_key


def wait_for_callback_hours(state: RouterState, now: float) -> None:
    """One timer at the next moment callbacks may be dialled (none under a night override)."""
    if state._hours_timer > now:
        return
    at = due_from(state, now, state.config.night.is_night(now))
    if at > now:
        state._hours_timer = at
        state._push_timer(at, T_HOURS, "")


def dispatch_callbacks(state: RouterState, now: float, out: list[c.Command]) -> None:
    """Offer due callbacks to ready agents (callback hours opened, night override lifted)."""
    for bucket in list(state.buckets.values()):
        while bucket.callbacks_live:
            head = bucket.callback_head()
            state._place(head, now, out)
            if head.state == WAITING:
                break


def close_callback(state: RouterState, caller: str, out: list[c.Command]) -> None:
    """The citizen got through on a live call: a callback not yet being dialled is closed."""
    pending = state.pending_callers.get(caller)
    if pending is not None and pending.state in (SCHEDULED, WAITING):
        state._finish(pending, "callback_closed", out)


def edf_key(item: Item) -> tuple[float, float, float, int]:
    """Callbacks are served earliest deadline first, then by line position and request time."""
    return (item.deadline, item.due, item.arrived, item.token)


def queue(state: RouterState, item: Item) -> None:
    """A due callback enters its bucket's deadline-ordered heap."""
    item.state = WAITING
    item.bucket.push_callback(item, state._next_seq())


def unqueue(state: RouterState, item: Item) -> None:
    """A callback leaves its heap: counts only, the entry goes stale once the state changes."""
    bucket = item.bucket
    bucket.callbacks_live -= 1
    bucket.waiting -= 1
