"""The live state document and the router's counters, fed by the real ACD core."""

from __future__ import annotations

import json

from hypothesis import given, settings, target
from hypothesis import strategies as st
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.acd import events as e
from services.acd.config import RouterConfig, TopicPolicy
from services.acd.model import CALLBACK, DIALLING, RINGING
from services.acd.router import RouterState
from services.acd.schedule import NightSchedule
from services.acd.wallboard import (
    StateSince,
    agent_state,
    agents_named,
    agents_touched,
    live_document,
)
from services.router.metrics import LiveCollector, RouterMetrics

T0 = 1_800_000_000.0
CONFIG = RouterConfig(
    centre="test",
    night=NightSchedule(enabled=False),
    overflow=False,
    callbacks=False,
    topics={"mfc": TopicPolicy(wrap_up_seconds=10.0, fallbacks=("self_service",))},
)


class Centre:
    """The core plus the shell-side bookkeeping the router process keeps beside it."""

    def __init__(self) -> None:
        self.state = RouterState(CONFIG)
        self.since = StateSince()
        self.metrics = RouterMetrics("test", timezone="Europe/Moscow")
        self.log: list[tuple[float, e.Event]] = []

    def apply(self, at: float, event: e.Event) -> None:
        now = T0 + at
        touched = agents_touched(self.state, event, now)
        outputs = self.state.apply(event, now)
        self.metrics.observe(event, now, outputs)
        self.since.update(self.state, touched | agents_named(outputs), now)
        self.log.append((now, event))


def samples(metrics: RouterMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if not s.name.endswith("_created")
    }


def value(metrics: RouterMetrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted({"centre": "test", **labels}.items())))]


def busy_morning() -> Centre:
    """Two operators on "mfc"; four callers: one answered at once, one after 50 s, one
    abandoned after 20 s, one still waiting."""
    centre = Centre()
    centre.apply(0, e.AgentLoggedIn("1001", {"mfc": 3}, {"ru": 5}))
    centre.apply(0, e.AgentLoggedIn("1002", {"mfc": 3}, {"ru": 5}))
    centre.apply(1, e.AgentReady("1001"))
    centre.apply(2, e.CallArrived("c1", "test", topic="mfc", caller="+79131234567"))
    centre.apply(4, e.AgentAnswered("c1", "1001"))
    centre.apply(5, e.CallArrived("c2", "test", topic="mfc", caller="+79130000002"))
    centre.apply(6, e.CallArrived("c3", "test", topic="mfc", caller="+79130000003"))
    centre.apply(26, e.CallerHungUp("c3"))
    centre.apply(34, e.CallEnded("c1"))  # 30 s talk; 1001 wraps up for 10 s
    centre.apply(44, e.ScheduleTick())  # wrap-up over: c2 rings 1001
    centre.apply(55, e.AgentAnswered("c2", "1001"))
    centre.apply(60, e.CallArrived("c4", "test", topic="mfc", caller="+79130000004"))
    centre.apply(61, e.AgentPaused("1002", "lunch"))
    return centre


def test_the_live_document_has_the_contract_shape_and_masks_callers() -> None:
    centre = busy_morning()
    now = T0 + 70
    doc = live_document(centre.state, now, centre.since.states, centre.metrics.figures(now))
    assert set(doc) == {"at", "wallboard", "agents", "waiting", "callbacks"}
    json.dumps(doc)  # plain JSON
    agents = {a["id"]: a for a in doc["agents"]}
    assert agents["1001"] == {
        "id": "1001",
        "state": "talking",
        "since": T0 + 55,
        "call_id": "c2",
        "topic": "mfc",
        "pause_reason": None,
    }
    assert agents["1002"]["state"] == "paused"
    assert agents["1002"]["pause_reason"] == "lunch"
    assert agents["1002"]["since"] == T0 + 0  # logged in paused, never ready
    (waiting,) = doc["waiting"]
    assert waiting["call_id"] == "c4" and waiting["waited"] == 10.0
    assert "0000004" not in waiting["caller_masked"] and waiting["caller_masked"].endswith("04")
    assert doc["wallboard"]["waiting_by_topic"] == {"mfc": 1}
    # c1 answered within 40 s; c2 after 50 s; c3 abandoned: 1 of 3 calls settled in time.
    assert doc["wallboard"]["service_level_today"] == round(1 / 3, 4)
    assert doc["wallboard"]["service_level_today_met"] == 1
    assert doc["wallboard"]["service_level_today_calls"] == 3
    assert doc["wallboard"]["abandoned_today"] == 1
    assert doc["wallboard"]["answered_today"] == 1  # c2 is still talking


def test_time_in_state_follows_wrap_up_ending_by_timer() -> None:
    centre = busy_morning()
    assert centre.since.states["1001"] == ("talking", T0 + 55)
    centre.apply(90, e.CallEnded("c2"))
    assert centre.since.states["1001"] == ("wrap_up", T0 + 90)
    # The wrap-up ends inside the next event's apply; 1001 takes the waiting c4 at once.
    centre.apply(101, e.ScheduleTick())
    assert centre.since.states["1001"] == ("ringing", T0 + 101)
    centre.apply(102, e.AgentLoggedOut("1002"))
    assert centre.since.states["1002"] == ("offline", T0 + 102)
    doc = live_document(centre.state, T0 + 103, centre.since.states)
    assert {a["id"]: a["state"] for a in doc["agents"]} == {"1001": "ringing", "1002": "offline"}


def test_an_agent_whose_wrap_up_ends_inside_another_event_is_ready_from_then() -> None:
    centre = Centre()
    centre.apply(0, e.AgentLoggedIn("1001", {"mfc": 3}, {"ru": 5}))
    centre.apply(0, e.AgentLoggedIn("1002", {"mfc": 3}, {"ru": 5}))
    centre.apply(1, e.AgentReady("1001"))
    centre.apply(2, e.CallArrived("c1", "test", topic="mfc"))
    centre.apply(3, e.AgentAnswered("c1", "1001"))
    centre.apply(20, e.CallEnded("c1"))  # wrap-up until 30; nothing else waits
    centre.apply(45, e.AgentReady("1002"))  # names 1002 only; 1001's timer fires first
    assert centre.since.states["1001"] == ("ready", T0 + 45)


def test_counters_count_outcomes_waits_and_estimate_errors() -> None:
    centre = busy_morning()
    metrics = centre.metrics
    assert value(metrics, "okno_acd_calls_arrived_total", topic="mfc") == 4
    assert value(metrics, "okno_acd_calls_finished_total", topic="mfc", outcome="abandoned") == 1
    assert value(metrics, "okno_acd_calls_finished_total", topic="mfc", outcome="answered") == 1
    assert value(metrics, "okno_acd_answer_wait_seconds_count", topic="mfc") == 2
    assert value(metrics, "okno_acd_answer_wait_seconds_bucket", topic="mfc", le="40.0") == 1
    assert value(metrics, "okno_acd_answer_wait_seconds_sum", topic="mfc") == 2 + 50
    assert value(metrics, "okno_acd_handle_seconds_sum", topic="mfc") == 30
    # c2 queued (estimate given on arrival) and waited 50 s; c1 never queued.
    assert value(metrics, "okno_acd_wait_estimate_error_seconds_count", topic="mfc") == 1
    assert value(metrics, "okno_acd_waits_over_target_total", topic="mfc") == 1
    # Zero series exist for outcomes not seen yet, so ratios have data from the start.
    assert value(metrics, "okno_acd_calls_finished_total", topic="mfc", outcome="overflowed") == 0
    dialled = "okno_acd_callbacks_first_dialled_total"
    assert value(metrics, dialled, topic="general", on_time="true") == 0


def test_replaying_the_log_rebuilds_the_same_counters_and_times() -> None:
    centre = busy_morning()
    replayed = Centre()
    for now, event in centre.log:
        replayed.apply(now - T0, event)
    assert samples(replayed.metrics) == samples(centre.metrics)
    assert replayed.since.states == centre.since.states
    now = T0 + 70
    assert live_document(replayed.state, now, replayed.since.states) == live_document(
        centre.state, now, centre.since.states
    )


def test_live_gauges_come_from_the_state_and_only_while_routing() -> None:
    centre = busy_morning()
    now = T0 + 70
    routing = True
    collector = LiveCollector(
        "test", lambda: (centre.state, centre.metrics, now) if routing else None, lambda: routing
    )
    families = {f.name: f for f in collector.collect()}
    gauges = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in families.values()
        for s in f.samples
    }
    assert gauges[("okno_acd_calls_waiting", (("centre", "test"), ("topic", "mfc")))] == 1
    assert gauges[("okno_acd_longest_wait_seconds", (("centre", "test"), ("topic", "mfc")))] == 10
    assert gauges[("okno_acd_agents", (("centre", "test"), ("state", "paused")))] == 1
    assert gauges[("okno_acd_agents", (("centre", "test"), ("state", "talking")))] == 1
    assert gauges[("okno_acd_router_lease_held", (("centre", "test"),))] == 1
    ratio = (("centre", "test"), ("window", "15m"))
    assert gauges[("okno_acd_service_level_ratio", ratio)] == 1 / 3
    routing = False
    assert [f.name for f in collector.collect()] == ["okno_acd_router_lease_held"]


def test_callbacks_are_counted_from_the_core_records() -> None:
    """A callback whose citizen is busy at first, reached on the retry; a duplicate request."""
    centre = Centre()
    centre.state = RouterState(CONFIG.model_copy(update={"callback_hours": ("00:00", "23:59")}))
    general = {"topic": "general"}
    caller = "+79130000000"
    centre.apply(0, e.AgentLoggedIn("1001", {"general": 3}, {"ru": 5}))
    centre.apply(1, e.CallbackRequested("cb1", caller=caller, requested_at=T0 + 1))
    centre.apply(1, e.CallbackRequested("cb2", caller=caller, requested_at=T0 + 1))
    requested = ("okno_acd_callbacks_requested_total",)
    assert value(centre.metrics, *requested, **general, source="queue") == 1
    doc = live_document(centre.state, T0 + 700, centre.since.states)
    (pending,) = doc["callbacks"]
    assert pending["callback_id"] == "cb1" and pending["deadline"] == T0 + 601
    collector = LiveCollector(
        "test", lambda: (centre.state, centre.metrics, T0 + 700), lambda: True
    )
    live = {
        (s.name, s.labels.get("centre")): s.value for f in collector.collect() for s in f.samples
    }
    assert live[("okno_acd_callbacks_overdue", "test")] == 1
    assert live[("okno_acd_callback_oldest_age_seconds", "test")] == 699
    centre.apply(700, e.AgentReady("1001"))
    centre.apply(701, e.AgentAnswered("cb1", "1001"))
    centre.apply(705, e.CallbackResult("cb1", "1001", "busy"))
    # The retry's own deadline (705 + 120 + 600 = 1425) passes unserved: the promise was
    # already judged at the first dial, so the callback is not overdue.
    assert overdue_at(centre, 1500) == 0
    centre.apply(1705, e.ScheduleTick())  # the retry, due 120 s after "busy", runs late
    centre.apply(1706, e.AgentAnswered("cb1", "1001"))
    centre.apply(1710, e.CallbackResult("cb1", "1001", "answered"))
    centre.apply(1770, e.CallEnded("cb1"))
    metrics = centre.metrics
    assert value(metrics, "okno_acd_callback_attempts_total", **general, result="busy") == 1
    finished = "okno_acd_callbacks_finished_total"
    assert value(metrics, finished, **general, outcome="callback_done") == 1
    assert value(metrics, finished, **general, outcome="callback_merged") == 1
    # The citizen's phone first rang at 701, past the promise (601): late, counted once
    # (the retry's ring at 1706 is no first dial).
    dialled = "okno_acd_callbacks_first_dialled_total"
    assert value(metrics, dialled, **general, on_time="true") == 0
    assert value(metrics, dialled, **general, on_time="false") == 1
    assert value(metrics, *requested, **general, source="queue") == 1  # a retry is no request


def overdue_at(centre: Centre, at: float) -> float:
    collector = LiveCollector("test", lambda: (centre.state, centre.metrics, T0 + at), lambda: True)
    (family,) = [f for f in collector.collect() if f.name == "okno_acd_callbacks_overdue"]
    return family.samples[0].value


def callback_centre() -> Centre:
    centre = Centre()
    centre.state = RouterState(CONFIG.model_copy(update={"callback_hours": ("00:00", "23:59")}))
    return centre


def test_a_callback_is_on_time_when_the_citizens_phone_first_rings_by_the_first_promise() -> None:
    """cbA: the seat does not answer, an answer from a seat not ringing, then dialled on time
    and retried past its retry deadline — on time. cbB: first rings after its promise — late.
    cbC: its promise brought forward by a duplicate request, passed undialled — overdue, late."""
    centre = callback_centre()
    general = {"topic": "general"}
    dialled = "okno_acd_callbacks_first_dialled_total"
    centre.apply(0, e.AgentLoggedIn("1001", {"general": 3}, {"ru": 5}))
    centre.apply(0, e.AgentLoggedIn("1002", {"general": 3}, {"ru": 5}))
    centre.apply(0, e.CallbackRequested("cbA", caller="+79130000001"))  # promised by 600
    centre.apply(50, e.CallbackRequested("cbB", caller="+79130000002"))  # promised by 650
    centre.apply(100, e.AgentReady("1001"))  # cbA (earliest deadline) rings 1001's seat
    centre.apply(115, e.AgentNoAnswer("cbA", "1001"))  # nobody else is ready: 1001 again
    centre.apply(120, e.AgentAnswered("cbA", "1002"))  # not the seat ringing: ignored
    centre.apply(130, e.AgentNoAnswer("cbA", "1001"))  # the second miss pauses 1001
    assert value(centre.metrics, dialled, **general, on_time="true") == 0
    centre.apply(200, e.AgentReady("1002"))
    assert centre.state.items["cbA"].agent is not None
    centre.apply(201, e.AgentAnswered("cbA", "1002"))  # the citizen's phone rings: on time
    assert value(centre.metrics, dialled, **general, on_time="true") == 1
    # No answer: the retry is due at 330 and promised by 930; 1002 takes cbB at once.
    centre.apply(210, e.CallbackResult("cbA", "1002", "no_answer"))
    centre.apply(300, e.CallbackRequested("cbC", caller="+79130000003"))  # promised by 900
    # The same number asks again, as if first asked at 250: the promise becomes 850.
    centre.apply(310, e.CallbackRequested("cbC2", caller="+79130000003", requested_at=T0 + 250))
    # cbB's seat rings on and on: overdue from 650; cbC from 850, its earlier promise.
    assert [overdue_at(centre, at) for at in (649, 651, 849, 851)] == [0, 1, 1, 2]
    centre.apply(700, e.AgentAnswered("cbB", "1002"))  # cbB's seat answered after 650: late
    assert value(centre.metrics, dialled, **general, on_time="false") == 1
    centre.apply(705, e.CallbackResult("cbB", "1002", "answered"))
    # At 1000: cbA waits for its retry past 930 (already judged), cbC was never dialled.
    assert overdue_at(centre, 1000) == 1
    centre.apply(1000, e.AgentReady("1001"))
    centre.apply(1001, e.AgentAnswered("cbC", "1001"))
    assert overdue_at(centre, 1002) == 0
    assert value(centre.metrics, dialled, **general, on_time="true") == 1
    assert value(centre.metrics, dialled, **general, on_time="false") == 2
    requested = "okno_acd_callbacks_requested_total"
    # cbC2 was merged: bringing cbC's promise forward is no request.
    assert value(centre.metrics, requested, **general, source="queue") == 3


CALLBACKS = ("cb1", "cb2", "cb3")
OPERATORS = ("1001", "1002")
#: Steps that move callbacks along: requests, an operator getting ready, and what the seat
#: ringing for a callback or the citizen being dialled does (resolved by `_resolved`).
_callback_flow = st.one_of(
    st.builds(
        lambda callback_id, caller, requested_at: e.CallbackRequested(
            callback_id, caller=caller, requested_at=requested_at
        ),
        st.sampled_from(CALLBACKS),
        st.sampled_from(("+79130000001", "+79130000002")),
        st.sampled_from((0.0, T0)),
    ),
    st.sampled_from(OPERATORS).map(lambda agent: f"ready:{agent}"),
    st.sampled_from(("seat_answers", "seat_misses", "citizen_answers", "citizen_busy")),
)
#: Anything else, stray and out-of-turn events included.
_callback_noise = st.one_of(
    st.builds(
        e.AgentLoggedIn, st.sampled_from(OPERATORS), st.just({"general": 3}), st.just({"ru": 5})
    ),
    st.builds(e.AgentReady, st.sampled_from(OPERATORS)),
    st.builds(e.AgentLoggedOut, st.sampled_from(OPERATORS)),
    st.builds(e.AgentAnswered, st.sampled_from(CALLBACKS), st.sampled_from(OPERATORS)),
    st.builds(e.AgentNoAnswer, st.sampled_from(CALLBACKS), st.sampled_from(OPERATORS)),
    st.builds(
        e.CallbackResult,
        st.sampled_from(CALLBACKS),
        st.sampled_from(OPERATORS),
        st.sampled_from(("answered", "busy", "no_answer", "hung_up", "failed")),
    ),
    st.builds(e.CallEnded, st.sampled_from(CALLBACKS)),
    st.builds(e.CallbackCancelled, st.sampled_from(CALLBACKS)),
    st.builds(e.ScheduleTick),
)
#: Mostly flow, so that callbacks get dialled, retried and late often.
_callback_step = st.integers(0, 3).flatmap(lambda n: _callback_noise if n == 0 else _callback_flow)


def _resolved(state: RouterState, step: e.Event | str) -> list[e.Event]:
    """A step naming what happens to a callback in progress, as the events it is now."""
    if not isinstance(step, str):
        return [step]
    if step.startswith("ready:"):  # an operator logs in (if need be) and is ready
        agent = step.removeprefix("ready:")
        return [e.AgentLoggedIn(agent, {"general": 3}, {"ru": 5}), e.AgentReady(agent)]
    wanted = RINGING if step.startswith("seat") else DIALLING
    for item in state.items.values():
        if item.kind == CALLBACK and item.state == wanted and item.agent is not None:
            agent = item.agent.id
            if step == "seat_answers":
                return [e.AgentAnswered(item.id, agent)]
            if step == "seat_misses":
                return [e.AgentNoAnswer(item.id, agent)]
            result = "answered" if step == "citizen_answers" else "busy"
            return [e.CallbackResult(item.id, agent, result)]
    return [e.ScheduleTick()]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 200.0), _callback_step), min_size=5, max_size=40))
def test_first_dials_are_counted_as_the_core_moves_callbacks_to_dialling(
    steps: list[tuple[float, e.Event | str]],
) -> None:
    """Whatever the order of events, the counter follows the core: a callback counts once,
    when the core first moves it from ringing the seat to dialling the citizen, on time if that
    is by its deadline then (still the first promise: only a retry moves it later); a replay of
    the log counts the same."""
    centre = callback_centre()
    expected = {"true": 0, "false": 0}
    seen: set[str] = set()
    at = 0.0
    for gap, step in steps:
        at += gap
        for event in _resolved(centre.state, step):
            item = centre.state.items.get(getattr(event, "call_id", ""))
            before = None if item is None else (item.state, item.deadline, item.attempt)
            centre.apply(at, event)
            if item is None or before is None or not isinstance(event, e.AgentAnswered):
                continue
            if (before[0], item.state) == (RINGING, DIALLING) and item.id not in seen:
                seen.add(item.id)
                assert before[2] == 1  # the citizen's phone never rang before the first attempt
                expected["true" if T0 + at <= before[1] else "false"] += 1
        seen &= set(centre.state.items)  # a finished callback's id may be requested anew
    target(float(sum(expected.values())))
    dialled = "okno_acd_callbacks_first_dialled_total"
    for on_time, count in expected.items():
        assert value(centre.metrics, dialled, topic="general", on_time=on_time) == count
    replayed = callback_centre()  # the router log replayed at start counts the same
    for now, event in centre.log:
        replayed.apply(now - T0, event)
    assert samples(replayed.metrics) == samples(centre.metrics)


AGENTS = ("1001", "1002")
CALLS = ("c0", "c1", "c2")
_event = st.one_of(
    st.builds(e.AgentLoggedIn, st.sampled_from(AGENTS), st.just({"mfc": 3}), st.just({"ru": 5})),
    st.builds(e.AgentReady, st.sampled_from(AGENTS)),
    st.builds(e.AgentPaused, st.sampled_from(AGENTS), st.sampled_from(("break", "lunch"))),
    st.builds(e.AgentLoggedOut, st.sampled_from(AGENTS)),
    st.builds(e.AgentAnswered, st.sampled_from(CALLS), st.sampled_from(AGENTS)),
    st.builds(e.AgentNoAnswer, st.sampled_from(CALLS), st.sampled_from(AGENTS)),
    st.builds(e.WrapUpEnded, st.sampled_from(AGENTS)),
    st.builds(e.CallArrived, st.sampled_from(CALLS), st.just("test"), st.just("mfc")),
    st.builds(e.CallerHungUp, st.sampled_from(CALLS)),
    st.builds(e.CallEnded, st.sampled_from(CALLS)),
    st.builds(e.ScheduleTick),
)


def _served(agent: str, call: str) -> list[e.Event]:
    """A whole answered call, so that talks and wrap-ups happen often."""
    return [
        e.AgentLoggedIn(agent, {"mfc": 3}, {"ru": 5}),
        e.AgentReady(agent),
        e.CallArrived(call, "test", "mfc"),
        e.AgentAnswered(call, agent),
        e.CallEnded(call),
    ]


_chunk = st.one_of(
    _event.map(lambda event: [event]),
    st.builds(_served, st.sampled_from(AGENTS), st.sampled_from(CALLS)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 30.0), _chunk), max_size=25))
def test_time_in_state_never_misses_a_change(steps: list[tuple[float, list[e.Event]]]) -> None:
    """Without the once-a-second sweep, the agents named by events, calls, due wrap-ups and
    outputs are enough: the remembered state is always the agent's state."""
    centre = Centre()
    at = 0.0
    for gap, chunk in steps:
        at += gap
        for event in chunk:
            at += 0.5
            centre.apply(at, event)
            for agent_id, agent in centre.state.agents.items():
                assert centre.since.states[agent_id][0] == agent_state(agent), (agent_id, event)
            for agent_id, (known, _since) in centre.since.states.items():
                if agent_id not in centre.state.agents:
                    assert known == "offline"
