"""The hot paths spelled out for speed make exactly the decisions of the general code.

The core's arrival and call-end handlers inline ``_find_agent``/``_offer`` and ``_make_idle``;
the simulator draws arrivals and handle times in blocks and tallies calls in whole-list passes.
Each is checked here against the plain definition it replaces, on random inputs.
"""

from __future__ import annotations

import copy
import math
import random
from functools import reduce
from operator import add
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RouterConfig, TopicPolicy
from services.acd.handlers import arrive, end_call
from services.acd.model import CALL, RINGING, TALKING, Item
from services.acd.router import RouterState
from services.acd.sim.engine import Simulation
from services.acd.sim.scenario import HALF_HOUR, Distribution, parse_scenario
from tests.acd.acd_support import T0

TOPICS = ("general", "pensions")


# ----------------------------------------------------------------------------- the core
def reference_arrive(state: RouterState, ev: e.CallArrived, now: float) -> list[c.Command]:
    """A call arriving where an agent is free, by the general operations (no inlining)."""
    policy = state.config.topic(ev.topic)
    bucket = state._bucket(ev.topic, ev.language)
    item = Item(
        ev.call_id,
        CALL,
        bucket,
        policy,
        ev.priority,
        now,
        now + state.config.answer_within_seconds,
        policy.required_level,
        ev.caller,
        ev.overflowed_from,
    )
    state.items[ev.call_id] = item
    out: list[c.Command] = []
    found = state._find_agent(item, now)
    assert found is not None
    state._offer(item, found[0], found[1], now, out, from_ready=True)
    return out


def reference_end(state: RouterState, call_id: str, now: float) -> list[c.Command]:
    """A conversation ending, by the general operations: finish, then wrap up or go idle."""
    item = state.items[call_id]
    agent = item.agent
    assert agent is not None
    item.bucket.handle.append(now - item.connected_at)
    out: list[c.Command] = []
    state._finish(item, "answered", out)
    state._wrap_up(agent, item, now, out)
    return out


def snapshot(state: RouterState) -> Any:
    """Everything a later decision can depend on, in a comparable form."""
    buckets = {
        key: (
            [list(level) for level in bucket.ready],
            bucket.ready_count,
            bucket.waiting,
            [(lane.priority, lane.live, [i.id for i in lane.items]) for lane in bucket.lanes],
            list(bucket.handle),
        )
        for key, bucket in state.buckets.items()
    }
    items = {
        i.id: (i.state, i.agent.id if i.agent else None, i.expected_wait, i.connected_at)
        for i in state.items.values()
    }
    agents = {
        a.id: (a.activity, a.intent, a.item.id if a.item else None, a.idle_since, a.misses)
        for a in state.agents.values()
    }
    return state.seq, buckets, items, agents, state.timers


def config_strategy() -> st.SearchStrategy[RouterConfig]:
    return st.builds(
        lambda auto, wrap: RouterConfig(
            auto_answer=auto,
            announce_position=False,
            topics={
                "general": TopicPolicy(wrap_up_seconds=wrap),
                "pensions": TopicPolicy(required_level=3),
            },
        ).plain(),
        st.booleans(),
        st.sampled_from([0.0, 0.0, 5.0]),
    )


step = st.one_of(
    st.tuples(st.just("arrive"), st.sampled_from(TOPICS), st.integers(0, 2)),
    st.tuples(st.just("end"), st.integers(0, 50), st.just(0)),
    st.tuples(st.just("answer"), st.just(""), st.integers(0, 50)),
    st.tuples(st.just("tick"), st.just(""), st.just(0)),
)


skills_strategy = st.lists(
    st.dictionaries(st.sampled_from(TOPICS), st.integers(1, 5), min_size=1, max_size=1)
    | st.fixed_dictionaries({"general": st.integers(1, 5), "pensions": st.integers(1, 5)}),
    min_size=1,
    max_size=5,
)


@settings(max_examples=150, deadline=None)
@given(
    config=config_strategy(),
    skills=skills_strategy,
    steps=st.lists(step, min_size=10, max_size=80),
)
def test_arrival_and_call_end_fast_paths_match_the_general_code(
    config: RouterConfig, skills: list[dict[str, int]], steps: list[tuple[str, str, int]]
) -> None:
    state = RouterState(config)
    now = T0
    for n, agent_skills in enumerate(skills):
        state.apply(e.AgentLoggedIn(f"a{n}", agent_skills, {"ru": 5}), now)
        state.apply(e.AgentReady(f"a{n}"), now)
    arrived = 0
    for kind, topic, number in steps:
        now += 7.0
        if kind == "tick":
            state.apply(e.ScheduleTick(), now)
            continue
        if kind == "answer":  # without auto-answer, an operator picks up a ringing call
            ringing = sorted((i.id, i.agent.id) for i in state.items.values() if i.agent)
            ringing = [
                (call, agent) for call, agent in ringing if state.items[call].state == RINGING
            ]
            if ringing:
                state.apply(e.AgentAnswered(*ringing[number % len(ringing)]), now)
            continue
        if kind == "arrive":
            arrived += 1
            event: e.Event = e.CallArrived(str(arrived), "main", topic, "ru", number)
        else:
            talking = sorted(i.id for i in state.items.values() if i.state == TALKING)
            if not talking:
                continue
            event = e.CallEnded(talking[number % len(talking)])
        state.apply(e.ScheduleTick(), now)  # due timers first, as ``apply`` does
        before = copy.deepcopy(state)
        fast = state.apply(event, now)
        if isinstance(event, e.CallEnded):
            general = reference_end(before, event.call_id, now)
        elif any(isinstance(cmd, c.ConnectAgent) for cmd in fast):
            general = reference_arrive(before, event, now)
        else:
            continue  # queued: no inlined offer involved
        assert fast == general
        assert snapshot(state) == snapshot(before)


@settings(max_examples=150, deadline=None)
@given(
    config=config_strategy(),
    skills=skills_strategy,
    steps=st.lists(step, min_size=10, max_size=80),
)
def test_quiet_entries_leave_out_exactly_the_records_they_return(
    config: RouterConfig, skills: list[dict[str, int]], steps: list[tuple[str, str, int]]
) -> None:
    """The simulator's ``arrive``/``end_call(quiet=True)`` against the router's ``apply``, side
    by side: the same state after every event, and the same records but those returned."""
    state = RouterState(config)
    now = T0
    for n, agent_skills in enumerate(skills):
        state.apply(e.AgentLoggedIn(f"a{n}", agent_skills, {"ru": 5}), now)
        state.apply(e.AgentReady(f"a{n}"), now)
    quiet = copy.deepcopy(state)
    arrived = 0
    for kind, topic, number in steps:
        now += 7.0
        for router in (state, quiet):  # due timers first, so that ``out`` starts empty
            router.apply(e.ScheduleTick(), now)
        out: list[c.Command] = []
        if kind == "arrive":
            arrived += 1
            call_id = str(arrived)
            recorded = state.apply(e.CallArrived(call_id, "main", topic, "ru", number), now)
            if arrive(quiet, call_id, "main", topic, "ru", number, "", "", now, out, True):
                connect = recorded[-1]
                assert isinstance(connect, c.ConnectAgent) and connect.call_id == call_id
                assert connect.auto_answer and connect.waited == connect.expected_wait == 0.0
                recorded = recorded[:-1]
            assert out == recorded
        elif kind == "end":  # any call: talking, ringing or waiting
            calls = sorted(quiet.items)
            if not calls:
                continue
            call_id = calls[number % len(calls)]
            talking = quiet.items[call_id].state == TALKING
            recorded = state.apply(e.CallEnded(call_id), now)
            result = end_call(quiet, call_id, now, out, True)
            assert result is not False if talking else result is False
            if result is not False:
                finished = recorded.pop(0)
                assert isinstance(finished, c.CallFinished)
                assert (finished.call_id, finished.outcome) == (call_id, "answered")
            if isinstance(result, Item):
                connect = recorded.pop()
                assert isinstance(connect, c.ConnectAgent) and connect.call_id == result.id
                assert connect.auto_answer and connect.expected_wait == result.expected_wait
                assert connect.waited == now - result.arrived
            assert out == recorded
        elif kind == "answer":
            ringing = sorted(i.id for i in state.items.values() if i.state == RINGING)
            if ringing:
                call_id = ringing[number % len(ringing)]
                agent = state.items[call_id].agent
                assert agent is not None
                for router in (state, quiet):
                    router.apply(e.AgentAnswered(call_id, agent.id), now)
        assert snapshot(quiet) == snapshot(state)


# ----------------------------------------------------------------------------- the simulator
def one_centre(streams: list[dict[str, Any]]) -> Simulation:
    scenario = parse_scenario(
        {
            "name": "t",
            "centres": [
                {
                    "name": "main",
                    "agents": [{"count": 2, "skills": {"general": 1}}],
                    "arrivals": streams,
                }
            ],
        },
        "t",
    )
    return Simulation(scenario, seed=1)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    rates=st.lists(
        st.lists(st.just(0.0) | st.floats(0.01, 900), min_size=1, max_size=4),
        min_size=1,
        max_size=3,
    ),
)
def test_block_drawn_arrivals_equal_one_draw_at_a_time(seed: int, rates: list[list[float]]) -> None:
    """Same times, same order, and the generator left where one-at-a-time drawing leaves it."""
    streams = [{"per_half_hour": r, "handle": {"kind": "exponential", "mean": 100}} for r in rates]
    sim = one_centre(streams)
    sim.rng.seed(seed)
    times, which = sim._arrival_times()

    rng = random.Random(seed)
    expected: list[tuple[float, int]] = []
    for index, per_stream in enumerate(rates):
        for interval, per_half_hour in enumerate(per_stream):
            if per_half_hour <= 0:
                continue
            rate = per_half_hour / HALF_HOUR
            t = sim.epoch + interval * HALF_HOUR
            end = t + HALF_HOUR
            t += rng.expovariate(rate)
            while t < end:
                expected.append((t, index))
                t += rng.expovariate(rate)
    expected.sort()
    assert list(zip(times, which, strict=True)) == expected
    assert sim.rng.getstate() == rng.getstate()


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    count=st.integers(0, 300),
    distribution=st.sampled_from(
        [
            Distribution(kind="exponential", mean=180),
            Distribution(kind="lognormal", mean=180, sd=90),
            Distribution(kind="fixed", value=20),
        ]
    ),
)
def test_block_draws_equal_a_samplers_draws(
    seed: int, count: int, distribution: Distribution
) -> None:
    rng, again = random.Random(seed), random.Random(seed)
    sample = distribution.sampler(again)
    assert distribution.draws(rng, count) == [sample() for _ in range(count)]
    assert rng.getstate() == again.getstate()


def reference_tally(sim: Simulation, arrived: int) -> tuple[Any, ...]:
    """The end-of-run tally as one loop over the calls (the definition of every figure)."""
    n = len(sim.stream_facts)
    calls, answered, within, violations = [0] * n, [0] * n, [0] * n, [0] * n
    wait_sum = [0.0] * n
    interval_calls = [0] * len(sim.interval_calls)
    interval_within = [0] * len(sim.interval_within)
    waits = []
    for number in range(arrived):
        t, stream = sim.arrival_at[number], sim.arrival_stream[number]
        answered_at, acted = sim.answer_time[number], sim.first_action[number]
        promise = sim.stream_facts[stream][1]
        calls[stream] += 1
        interval = int((t - sim.epoch) // HALF_HOUR)
        interval_calls[interval] += 1
        if answered_at < 0:
            continue
        wait = answered_at - t
        answered[stream] += 1
        wait_sum[stream] += wait
        waits.append(wait)
        if wait <= promise:
            within[stream] += 1
            interval_within[interval] += 1
        elif acted < 0 or acted > t + promise:
            violations[stream] += 1
    return calls, answered, within, violations, wait_sum, interval_calls, interval_within, waits


@settings(max_examples=60, deadline=None)
@given(data=st.data(), streams=st.integers(1, 3), answered_share=st.sampled_from([0.0, 0.7, 1.0]))
def test_tally_in_whole_list_passes_equals_a_loop_over_calls(
    data: st.DataObject, streams: int, answered_share: float
) -> None:
    sim = one_centre(
        [{"per_half_hour": [50, 50, 50], "handle": {"kind": "fixed", "value": 60}}] * streams
    )
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    arrived = data.draw(st.integers(0, 200))
    times = sorted(sim.epoch + rng.uniform(0, 3 * HALF_HOUR - 1e-6) for _ in range(arrived))
    times[: data.draw(st.integers(0, 3))] = [sim.epoch + HALF_HOUR] * min(3, arrived)  # edges
    times.sort()
    sim.arrival_at = times
    sim.arrival_stream = [rng.randrange(streams) for _ in range(arrived)]
    sim.answer_time = [
        t + rng.choice([0.0, 40.0, rng.expovariate(1 / 30)])
        if rng.random() < answered_share
        else -1.0
        for t in times
    ]
    sim.first_action = [-1.0 if rng.random() < 0.5 else t + rng.uniform(0, 80) for t in times]
    expected = reference_tally(sim, arrived)
    sim._tally_calls(arrived)
    (tally,) = sim.tallies  # every stream arrives at the one centre
    assert tally.calls == sum(expected[0])
    assert tally.answered == sum(expected[1])
    assert tally.within == sum(expected[2])
    assert tally.violations == sum(expected[3])
    assert tally.wait_sum == reduce(add, expected[4], 0.0)  # exact: same additions, same order
    assert (sim.interval_calls, sim.interval_within, sim.waits) == expected[5:]


def test_waits_sum_in_arrival_order() -> None:
    """``reduce(add)`` is a left fold: the same float as summing in a loop, on any Python."""
    values = [0.1 * k for k in range(1, 1000)]
    total = 0.0
    for value in values:
        total += value
    assert reduce(add, values, 0.0) == total
    assert not math.isclose(0.0, total)


@pytest.mark.parametrize(
    "centre",
    [
        {},  # M/M/c
        {"router": {"auto_answer": True, "topics": {"general": {"wrap_up_seconds": 20}}}},
        {"agents": [{"count": 4, "skills": {"general": 1}, "shift": [0.5, 2.5]}]},
    ],
)
def test_handle_times_drawn_up_front_change_nothing(
    centre: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under ``plain`` with auto-answer and one stream the handle times are drawn in one block;
    the run must equal one that draws them one by one."""
    base: dict[str, Any] = {
        "name": "main",
        "router": {"auto_answer": True},
        "agents": [{"count": 4, "skills": {"general": 1}}],
        "arrivals": [
            {"per_half_hour": [40, 60, 50, 10], "handle": {"kind": "exponential", "mean": 150}}
        ],
    }
    scenario = parse_scenario(
        {"name": "t", "policy": "plain", "drain_hours": 24, "centres": [base | centre]}, "t"
    )
    blocked = Simulation(scenario, seed=5)
    assert blocked._handles_only_draws()
    drawn_up_front = blocked.run()
    monkeypatch.setattr(Simulation, "_handles_only_draws", lambda self: False)
    one_by_one = Simulation(scenario, seed=5).run()
    assert drawn_up_front.summary == one_by_one.summary
    assert drawn_up_front.waits == one_by_one.waits
    assert drawn_up_front.summary["answered"] > 100
