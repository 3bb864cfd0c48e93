"""The pure parts: Russian numbers to E.164, and router-log entries to callback changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RouterConfig
from services.acd.model import CALLBACK, DIALLING, RINGING
from services.acd.router import RouterState
from services.acd.schedule import NightSchedule
from services.callbacks.lifecycle import State, apply_change, at_of, changes_of
from services.callbacks.phones import BadNumber, to_e164
from services.callbacks.service import masked
from services.router.wire import event_fields


@pytest.mark.parametrize(
    "written",
    [
        "+7 (923) 123-45-67",
        "+79231234567",
        "8 923 123 45 67",
        "8-923-123-45-67",
        "89231234567",
        "79231234567",
        "(923) 123.45.67",
        " 9231234567 ",
    ],
)
def test_the_ways_people_write_a_number(written: str) -> None:
    assert to_e164(written) == "+79231234567"


@pytest.mark.parametrize(
    "written",
    [
        "",
        "+",
        "112",
        "+1 212 555 0100",
        "+7 700 123 45 67",
        "8 623 123 45 67",
        "+7923123456",
        "892312345678",
        "+7 923 123 45 6x",
        "８９２３１２３４５６７",
        "+8 923 123 45 67",
    ],
)
def test_what_is_not_a_russian_number(written: str) -> None:
    with pytest.raises(BadNumber):
        to_e164(written)


@given(
    code=st.sampled_from("3489"),
    rest=st.text("0123456789", min_size=9, max_size=9),
    prefix=st.sampled_from(["+7", "8", "7", "", "+7 ", "8 ("]),
    separator=st.sampled_from(["", " ", "-", "."]),
)
def test_any_russian_number_in_any_spelling_is_the_same_e164(
    code: str, rest: str, prefix: str, separator: str
) -> None:
    digits = code + rest
    spelled = prefix + separator.join([digits[:3], digits[3:6], digits[6:8], digits[8:]])
    assert to_e164(spelled) == "+7" + digits
    assert to_e164(to_e164(spelled)) == "+7" + digits


def test_masked_numbers_keep_only_their_ends() -> None:
    assert masked("+79231234567") == "+7********67"
    assert masked("101") == "***"


def record(command: c.Command) -> dict[str, object]:
    return c.command_to_record(command)


def test_an_entry_becomes_changes_in_order_and_calls_are_left_alone() -> None:
    outputs = [
        record(c.Queued(1, "call-1", 1, 20.0)),
        record(c.CallFinished(2, "call-1", "callback")),  # the call that became a callback
        record(
            c.CallbackScheduled(3, "cb-1", "+79130000000", "snils", "queue", 5.0, 5.0, 605.0, 1)
        ),
    ]
    event = {"callback_id": "cb-1", "caller": "+79130000000", "topic": "snils", "call_id": "call-1"}
    changes = changes_of("CallbackRequested", event, 10.0, outputs)
    assert [(ch.callback_id, ch.kind) for ch in changes] == [
        ("cb-1", "requested"),
        ("cb-1", "scheduled"),
    ]
    assert changes[0].data["requested_at"] == 10.0  # 0.0 on the wire: the router's now
    assert changes[0].data["source"] == "queue"


def test_folding_a_retry_and_a_late_answer() -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    state = State(status="pending")
    steps: list[c.Command] = [
        c.DialCallback(1, "cb", "op1", "+7", 1.0, 1),
        c.CallbackAttempted(2, "cb", "op1", 1, "busy"),
        c.CallbackScheduled(3, "cb", "+7", "g", "queue", 0, 120, 600, 2),
    ]
    for command in steps:
        for change in changes_of("ScheduleTick", {}, 0.0, [record(command)]):
            apply_change(state, change, at)
    assert (state.status, state.attempts, state.last_result, state.agent_id) == (
        "pending",
        1,
        "busy",
        None,
    )
    answered = changes_of(
        "CallbackResult", {"callback_id": "cb", "agent_id": "op2", "result": "answered"}, 0.0, []
    )
    apply_change(state, answered[0], at)
    assert (state.attempts, state.answered_at, state.agent_id) == (2, at, "op2")
    # The operator's phone not answering a callback someone else is dialling changes nothing.
    for change in changes_of("AgentNoAnswer", {"call_id": "cb", "agent_id": "op1"}, 0.0, []):
        apply_change(state, change, at)
    assert state.agent_id == "op2"


def test_the_first_ring_and_the_first_promise() -> None:
    """A stray answer and a seat that stopped ringing do not count; the first answer of the
    seat rung does; a retry's deadline leaves the first promise alone."""
    state = State(status="pending")

    def fold(now: float, event_type: str, event: dict[str, object], *outputs: c.Command) -> None:
        for change in changes_of(event_type, event, now, [record(o) for o in outputs]):
            apply_change(state, change, at_of(now))

    fold(0, "CallbackRequested", {}, c.CallbackScheduled(1, "cb", "+7", "g", "queue", 0, 0, 600, 1))
    fold(10, "AgentReady", {}, c.DialCallback(2, "cb", "op1", "+7", 1.0, 1))
    fold(20, "AgentLoggedOut", {}, c.StopRinging(3, "cb", "op1"))  # back to the line
    fold(21, "AgentAnswered", {"call_id": "cb", "agent_id": "op1"})  # the router ignores it
    assert state.first_dialled_at is None and state.status == "pending"
    fold(30, "AgentReady", {}, c.DialCallback(4, "cb", "op2", "+7", 1.0, 1))
    fold(31, "AgentAnswered", {"call_id": "cb", "agent_id": "op3"})  # not the seat rung
    assert state.first_dialled_at is None
    fold(32, "AgentAnswered", {"call_id": "cb", "agent_id": "op2"})
    assert state.first_dialled_at == at_of(32)
    fold(
        40,
        "CallbackResult",
        {"callback_id": "cb", "agent_id": "op2", "result": "busy"},
        c.CallbackAttempted(5, "cb", "op2", 1, "busy"),
        c.CallbackScheduled(6, "cb", "+7", "g", "queue", 0, 160, 760, 2),
    )
    fold(160, "ScheduleTick", {}, c.DialCallback(7, "cb", "op2", "+7", 1.0, 2))
    fold(170, "AgentAnswered", {"call_id": "cb", "agent_id": "op2"})
    assert state.first_dialled_at == at_of(32)
    assert (state.promised_by, state.deadline) == (at_of(600), at_of(760))


T0 = 1_800_000_000.0
NUMBERS = ("+79130000001", "+79130000002")
#: What happens next, resolved against the core's state when applied (see `_events`);
#: repeated entries make the steps that move a callback along more likely.
ACTIONS = (
    "ready:op1", "ready:op2", "logout:op1", "logout:op2",
    "seat_answers", "seat_answers", "seat_answers", "seat_misses", "stray_answer",
    "answered", "busy", "busy", "no_answer", "failed", "hang_up", "cancel", "tick",
    "request", "request", "request",
)  # fmt: skip
#: (action, the number a request is for, when it was asked relative to now)
_step = st.tuples(
    st.sampled_from(ACTIONS), st.sampled_from(NUMBERS), st.sampled_from((0.0, -300.0))
)


def _events(state: RouterState, step: tuple[object, ...], serial: int, now: float) -> list[e.Event]:
    """The events a step stands for, now: it acts on the callback ringing a seat or dialling."""
    kind = step[0]
    if kind == "request":
        requested_at = now + float(step[2])  # type: ignore[arg-type]
        return [e.CallbackRequested(f"cb{serial}", caller=str(step[1]), requested_at=requested_at)]
    if isinstance(kind, str) and kind.startswith("ready:"):
        agent = kind.removeprefix("ready:")
        return [e.AgentLoggedIn(agent, {"general": 3}, {"ru": 5}), e.AgentReady(agent)]
    if isinstance(kind, str) and kind.startswith("logout:"):
        return [e.AgentLoggedOut(kind.removeprefix("logout:"))]
    if kind == "tick":
        return [e.ScheduleTick()]
    items = [i for i in state.items.values() if i.kind == CALLBACK and i.agent is not None]
    ringing = [i for i in items if i.state == RINGING]
    dialling = [i for i in items if i.state == DIALLING]
    if kind in ("seat_answers", "seat_misses", "stray_answer") and ringing:
        item, agent = ringing[0], ringing[0].agent.id  # type: ignore[union-attr]
        if kind == "stray_answer":  # the other seat answers: the router ignores it
            return [e.AgentAnswered(item.id, "op2" if agent == "op1" else "op1")]
        event = e.AgentAnswered if kind == "seat_answers" else e.AgentNoAnswer
        return [event(item.id, agent)]
    if dialling:
        item, agent = dialling[0], dialling[0].agent.id  # type: ignore[union-attr]
        if kind == "hang_up":
            return [e.CallEnded(item.id)]
        if kind == "cancel":
            return [e.CallbackCancelled(item.id)]
        if kind in ("answered", "busy", "no_answer", "failed"):
            return [e.CallbackResult(item.id, agent, kind)]
    if kind == "cancel" and state.items:
        return [e.CallbackCancelled(next(iter(state.items)))]
    return [e.ScheduleTick()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 200.0), _step), min_size=8, max_size=40))
def test_the_writer_keeps_the_promise_and_the_first_ring_the_core_knew(
    steps: list[tuple[float, tuple[object, ...]]],
) -> None:
    """Through the real core and its log records: each callback's `promised_by` is its deadline
    as it stood before its first dial (or while never dialled), and `first_dialled_at` the time
    the core first moved it from ringing the seat to dialling the citizen."""
    config = RouterConfig(
        centre="t", night=NightSchedule(enabled=False), callback_hours=("00:00", "23:59")
    )
    core = RouterState(config)
    folded: dict[str, State] = {}
    promised: dict[str, float] = {}
    first_ring: dict[str, float] = {}
    now = T0
    for serial, (gap, step) in enumerate(steps):
        now += gap
        for event in _events(core, step, serial, now):
            item = core.items.get(getattr(event, "call_id", ""))
            was = None if item is None else item.state
            outputs = core.apply(event, now)
            if item is not None and (was, item.state) == (RINGING, DIALLING):
                first_ring.setdefault(item.id, now)
            for live in core.items.values():
                if live.kind == CALLBACK and live.id not in first_ring and live.attempt == 1:
                    promised[live.id] = live.deadline
            fields = event_fields(event)
            records = [c.command_to_record(o) for o in outputs]
            for change in changes_of(fields["type"], json.loads(fields["body"]), now, records):
                if change.kind == "requested":
                    folded.setdefault(change.callback_id, State(status="pending"))
                if change.callback_id in folded:
                    apply_change(folded[change.callback_id], change, at_of(now))
    for callback_id, state in folded.items():
        expected = promised.get(callback_id)
        assert state.promised_by == (None if expected is None else at_of(expected)), callback_id
        ring = first_ring.get(callback_id)
        assert state.first_dialled_at == (None if ring is None else at_of(ring)), callback_id
