"""The operator's state folded from router-log entries (pure)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from services.workspace.agent_state import AgentView, LogEntry, concerns, fold

ME = "1001"


def entry(
    n: int, kind: str, now: float, outputs: list[dict[str, Any]] | None = None, **body: Any
) -> LogEntry:
    return (
        f"{n}-0",
        {
            "type": kind,
            "body": json.dumps(body),
            "now": repr(now),
            "outputs": json.dumps(outputs or []),
        },
    )


def wrap(seconds: float) -> Any:
    return lambda topic: seconds


def offer(call_id: str, agent: str = ME, waited: float = 3.0) -> dict[str, Any]:
    return {
        "type": "ConnectAgent",
        "seq": 1,
        "call_id": call_id,
        "agent_id": agent,
        "ring_timeout": 15.0,
        "auto_answer": False,
        "waited": waited,
        "expected_wait": 0.0,
        "level": 3,
    }


def logged_in_and_ready(start: int = 1, now: float = 100.0) -> list[LogEntry]:
    return [
        entry(start, "AgentLoggedIn", now, agent_id=ME, skills={"mfc": 3}, languages={"ru": 5}),
        entry(start + 1, "AgentReady", now + 1, agent_id=ME),
    ]


def a_call_answered() -> list[LogEntry]:
    return [
        *logged_in_and_ready(),
        entry(
            3,
            "CallArrived",
            110.0,
            call_id="c1",
            centre="x",
            topic="mfc",
            caller="+79130000001",
            did="88005550100",
        ),
        entry(4, "ScheduleTick", 112.0, [offer("c1", waited=2.0)], reason="tick"),
        entry(5, "AgentAnswered", 115.0, call_id="c1", agent_id=ME),
    ]


def test_an_operator_who_logs_in_and_is_ready_shows_ready_since_then() -> None:
    view = fold(ME, logged_in_and_ready(), wrap(0))
    assert view.state(200.0) == "ready" and view.since == 101.0 and view.call is None


def test_a_call_offered_rings_with_the_callers_topic_number_and_arrival() -> None:
    view = fold(ME, a_call_answered()[:4], wrap(0))
    assert view.state(113.0) == "ringing"
    assert view.call is not None
    assert (view.call.call_id, view.call.topic, view.call.caller) == ("c1", "mfc", "+79130000001")
    assert view.call.arrived_at == 110.0 and view.call.did == "88005550100"
    assert view.call.wait(113.0) == 3.0  # still waiting while the phone rings


def test_an_answered_call_then_its_end_starts_the_wrap_up_of_the_topic() -> None:
    entries = [*a_call_answered(), entry(6, "CallerHungUp", 150.0, call_id="c1")]
    view = fold(ME, entries, wrap(30))
    talking = fold(ME, entries[:-1], wrap(30))
    assert talking.state(140.0) == "talking"
    assert talking.call is not None and talking.call.wait(140.0) == 5.0  # arrival to answer
    assert view.state(160.0) == "wrap_up" and view.wrap_left(160.0) == 20.0
    assert view.call is not None and view.call.call_id == "c1"  # the card stays for the journal
    assert view.state(181.0) == "ready"  # the wrap-up ran out


def test_wrap_up_ended_by_the_operator_makes_them_ready_for_the_next_call() -> None:
    entries = [
        *a_call_answered(),
        entry(6, "CallEnded", 150.0, call_id="c1"),
        entry(
            7, "CallArrived", 151.0, call_id="c2", centre="x", topic="social", caller="+79130000002"
        ),
        entry(8, "WrapUpEnded", 155.0, [offer("c2")], agent_id=ME),
    ]
    view = fold(ME, entries, wrap(30))
    assert view.state(156.0) == "ringing"
    assert view.call is not None and view.call.call_id == "c2" and view.call.topic == "social"


def test_without_wrap_up_time_the_operator_is_ready_when_the_call_ends() -> None:
    view = fold(ME, [*a_call_answered(), entry(6, "CallEnded", 150.0, call_id="c1")], wrap(0))
    assert view.state(150.0) == "ready" and view.call is None


def test_a_caller_who_hangs_up_while_ringing_leaves_no_card() -> None:
    entries = [*a_call_answered()[:4], entry(5, "CallerHungUp", 113.0, call_id="c1")]
    view = fold(ME, entries, wrap(30))
    assert view.state(114.0) == "ready" and view.call is None


def test_missed_rings_that_pause_the_operator_show_the_pause() -> None:
    pause = {"type": "PauseAgent", "seq": 2, "agent_id": ME, "reason": "missed_calls"}
    entries = [
        *a_call_answered()[:4],
        entry(5, "AgentNoAnswer", 130.0, [pause], call_id="c1", agent_id=ME),
    ]
    view = fold(ME, entries, wrap(30))
    assert view.state(131.0) == "paused" and view.pause_reason == "missed_calls"


def test_a_pause_during_a_call_takes_effect_after_it() -> None:
    entries = [
        *a_call_answered(),
        entry(6, "AgentPaused", 120.0, agent_id=ME, reason="lunch"),
        entry(7, "CallEnded", 150.0, call_id="c1"),
    ]
    assert fold(ME, entries[:-1], wrap(0)).state(121.0) == "talking"
    view = fold(ME, entries, wrap(0))
    assert view.state(151.0) == "paused" and view.pause_reason == "lunch"


def test_other_operators_and_unreadable_entries_change_nothing() -> None:
    entries = [
        *logged_in_and_ready(),
        entry(3, "ScheduleTick", 105.0, [offer("c9", agent="1002")]),
        ("4-0", {"type": "AgentPaused", "body": "not json", "now": "106.0"}),
    ]
    view = fold(ME, entries, wrap(0))
    assert view.state(107.0) == "ready" and view.last_entry == "4-0"


def test_an_entry_concerns_the_operator_it_names_or_a_call_offered_to_them() -> None:
    calls: set[str] = set()
    _, offered = entry(1, "ScheduleTick", 1.0, [offer("c1")])
    _, ended = entry(2, "CallEnded", 2.0, call_id="c1")
    _, other = entry(3, "CallEnded", 3.0, call_id="c2")
    assert not concerns(ME, ended, calls)
    assert concerns(ME, offered, calls) and calls == {"c1"}
    assert concerns(ME, ended, calls) and not concerns(ME, other, calls)


events = st.sampled_from(
    [
        "AgentLoggedIn",
        "AgentReady",
        "AgentPaused",
        "AgentLoggedOut",
        "WrapUpEnded",
        "Offer",
        "AgentAnswered",
        "CallEnded",
        "CallerHungUp",
    ]
)


@given(st.lists(events, max_size=30), st.floats(min_value=0, max_value=60))
def test_any_sequence_gives_a_known_state_and_a_card_only_when_busy(
    kinds: list[str], wrap_s: float
) -> None:
    entries: list[LogEntry] = []
    for n, kind in enumerate(kinds, start=1):
        now = float(n)
        if kind == "Offer":
            entries.append(entry(n, "ScheduleTick", now, [offer(f"c{n}")]))
        elif kind in ("CallEnded", "CallerHungUp"):
            entries.append(entry(n, kind, now, call_id=f"c{n - 1}"))
        elif kind == "AgentAnswered":
            entries.append(entry(n, kind, now, call_id=f"c{n - 1}", agent_id=ME))
        else:
            entries.append(
                entry(n, kind, now, agent_id=ME, reason="break", skills={}, languages={})
            )
    view: AgentView = fold(ME, entries, wrap(wrap_s))
    now = float(len(kinds) + 1)
    state = view.state(now)
    assert state in ("ready", "paused", "offline", "ringing", "talking", "wrap_up")
    assert (view.call is not None) == (view.activity != "idle")
    assert 0.0 <= view.wrap_left(now) <= wrap_s


def dial_callback(callback_id: str, agent: str = ME) -> dict[str, Any]:
    return {
        "type": "DialCallback",
        "seq": 9,
        "callback_id": callback_id,
        "agent_id": agent,
        "caller": "+79130000009",
        "waited": 40.0,
        "attempt": 1,
        "topic": "housing",
        "ring_timeout": 15.0,
    }


def test_a_callback_rings_the_operator_with_whom_to_call_then_a_busy_citizen_frees_them() -> None:
    entries = [
        *logged_in_and_ready(),
        entry(3, "CallbackRequested", 110.0, [dial_callback("cb1")], callback_id="cb1"),
    ]
    ringing = fold(ME, entries, wrap(30))
    assert ringing.state(111.0) == "ringing" and ringing.call is not None
    card = ringing.call
    assert (card.kind, card.topic, card.caller) == ("callback", "housing", "+79130000009")
    entries += [
        entry(4, "AgentAnswered", 112.0, call_id="cb1", agent_id=ME),  # citizen being dialled
        entry(5, "CallbackResult", 130.0, callback_id="cb1", agent_id=ME, result="busy"),
    ]
    assert fold(ME, entries[:-1], wrap(30)).state(120.0) == "talking"
    freed = fold(ME, entries, wrap(30))
    assert freed.state(131.0) == "ready" and freed.call is None  # no wrap-up after a busy line
