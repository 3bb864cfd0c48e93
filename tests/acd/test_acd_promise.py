"""The 40-second rule, expected wait, callbacks, night and emergency modes, replay."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import TopicPolicy
from services.acd.router import replay, step
from services.acd.schedule import NightSchedule, Window
from services.acd.wallboard import advertised_waits, wallboard
from tests.acd.acd_support import T0, arrive, connected, login, make_router, only


def busy_router(agents: int = 2, **overrides: object) -> object:
    router = make_router(auto_answer=True, **overrides)
    for n in range(agents):
        login(router, f"a{n}")
    for n in range(agents):
        arrive(router, f"busy{n}", T0)
    return router


def test_expected_wait_uses_position_handle_times_and_staffed_agents() -> None:
    router = make_router(guarantee=False, auto_answer=True)
    for n in range(2):
        login(router, f"a{n}")
        arrive(router, f"warm{n}", T0)
        router.apply(e.CallEnded(f"warm{n}"), T0 + 100)  # handle time 100 s
    arrive(router, "x", T0 + 101)
    arrive(router, "y", T0 + 101)
    first = only(arrive(router, "q1", T0 + 102), c.Queued)[0]
    second = only(arrive(router, "q2", T0 + 102), c.Queued)[0]
    assert first.expected_wait == 50.0  # 1 x 100 s / 2 agents
    assert second.expected_wait == 100.0
    assert second.position == 2


def test_shared_agent_counted_once_per_topic() -> None:
    router = make_router(guarantee=False, auto_answer=True)
    login(router, "both", {"general": 3, "pensions": 3})
    login(router, "general-only", {"general": 3})
    waits = advertised_waits(router)
    assert waits == {"general": 0.0, "pensions": 0.0}
    arrive(router, "g1")
    arrive(router, "g2")
    queued = only(arrive(router, "p1", topic="pensions"), c.Queued)[0]
    assert queued.expected_wait == 180.0  # one agent can take pensions, default handle 180 s


def test_high_estimate_on_arrival_overflows_to_best_neighbour() -> None:
    router = busy_router()
    router.apply(e.NeighbourStatus("kemerovo", {"general": 20.0}), T0)
    router.apply(e.NeighbourStatus("tomsk", {"general": 5.0, "pensions": 1.0}), T0)
    router.apply(e.NeighbourStatus("closed", {"general": 0.0}, accepting=False), T0)
    arrive(router, "q1", T0 + 1)  # estimate 90 s: over the 35 s deadline
    commands = arrive(router, "q2", T0 + 1)
    overflow = only(commands, c.OverflowTo)
    assert [(o.call_id, o.centre, o.reason) for o in overflow] == [("q2", "tomsk", "estimate")]
    assert only(commands, c.CallFinished)[0].outcome == "overflowed"


def test_overflowed_call_is_not_sent_on_again() -> None:
    router = busy_router(topics={"general": TopicPolicy(fallbacks=("overflow",))})
    router.apply(e.NeighbourStatus("tomsk", {"general": 1.0}), T0)
    commands = arrive(router, "q1", T0 + 1, overflowed_from="kemerovo")
    assert only(commands, c.OverflowTo) == []
    assert only(commands, c.Decision)[0].reason == "estimate: no fallback available"


def test_deadline_acts_whatever_the_estimate_said() -> None:
    router = busy_router(agents=20, deadline_seconds=35)
    queued = only(arrive(router, "q1", T0 + 1), c.Queued)[0]
    assert queued.expected_wait < 35
    assert router.next_timer() == T0 + 36
    commands = router.apply(e.ScheduleTick(), T0 + 36)
    offers = only(commands, c.OfferCallback)
    assert [(o.call_id, o.reason) for o in offers] == [("q1", "deadline")]
    assert router.apply(e.ScheduleTick(), T0 + 50) == []


def test_callback_offer_keeps_the_callers_place_in_line() -> None:
    router = busy_router(agents=1, callback_within_seconds=600, callback_lead_seconds=120)
    arrive(router, "q1", T0 + 1)
    request = e.CallbackRequested("cb1", "general", "ru", "+7900", call_id="q1")
    finished = only(router.apply(request, T0 + 2), c.CallFinished)
    assert [(f.call_id, f.outcome) for f in finished] == [("q1", "callback")]
    arrive(router, "live", T0 + 3)
    ended = router.apply(e.CallEnded("busy0"), T0 + 10)
    dial = only(ended, c.DialCallback)  # q1 joined before "live": the callback goes first
    assert [(d.callback_id, d.agent_id, d.attempt) for d in dial] == [("cb1", "a0", 1)]
    assert dial[0].waited == 8.0  # counted from the request
    assert connected(ended) == []


def test_callback_request_for_a_connected_call_is_ignored() -> None:
    router = make_router(auto_answer=True)
    login(router, "a")
    arrive(router, "c1")
    commands = router.apply(e.CallbackRequested("cb1", call_id="c1"), T0 + 1)
    assert [(d.call_id, d.action) for d in only(commands, c.Decision)] == [("c1", "keep_call")]
    assert "cb1" not in router.items


def test_self_service_when_nothing_else_applies() -> None:
    policy = TopicPolicy(self_service=True, fallbacks=("overflow", "self_service"))
    router = busy_router(topics={"general": policy})
    arrive(router, "q1", T0 + 1)
    commands = arrive(router, "q2", T0 + 1)
    assert [(s.call_id, s.topic) for s in only(commands, c.PlaySelfService)] == [("q2", "general")]
    assert only(commands, c.CallFinished)[0].outcome == "self_service"


def test_call_nobody_can_take_is_ended_at_the_deadline() -> None:
    router = make_router(topics={"tax": TopicPolicy(fallbacks=())})
    login(router, "a", {"general": 3})
    ended = only(arrive(router, "t1", T0, topic="tax"), c.EndCall)
    assert [x.reason for x in ended] == ["estimate: no agent for this topic"]
    router = make_router(topics={"tax": TopicPolicy(fallbacks=())}, guarantee=True)
    login(router, "a", {"tax": 3})
    arrive(router, "busy", T0, topic="tax")
    arrive(router, "t2", T0 + 1, topic="tax")
    router.apply(e.AgentLoggedOut("a"), T0 + 2)
    commands = router.apply(e.ScheduleTick(), T0 + 40)
    assert [(x.call_id, x.reason) for x in only(commands, c.EndCall)] == [
        ("t2", "deadline: no agent for this topic")
    ]
    assert only(commands, c.CallFinished)[0].outcome == "ended"


def test_plain_policy_takes_no_action() -> None:
    router = busy_router(agents=1, guarantee=False)
    commands = arrive(router, "q1", T0 + 1)
    assert [type(cmd) for cmd in commands] == [c.Queued]
    assert router.next_timer() is None


def test_night_mode_defaults_to_midnight_to_six_local() -> None:
    router = make_router()
    night = datetime(2026, 11, 30, 20, 30, tzinfo=UTC).timestamp()  # 03:30 Novokuznetsk
    commands = arrive(router, "n1", night)
    assert [type(cmd) for cmd in commands] == [c.PlayAutoAttendant, c.CallFinished]
    morning = datetime(2026, 11, 30, 23, 0, tzinfo=UTC).timestamp()  # 06:00 local
    assert only(arrive(router, "d1", morning), c.PlayAutoAttendant) == []


def test_night_schedule_weekdays_holidays_and_override() -> None:
    schedule = NightSchedule(
        weekdays={"sat": (Window(start="00:00", end="09:00"), Window(start="20:00", end="24:00"))},
        holidays=(date(2026, 12, 31),),
    )
    saturday_8am = datetime(2026, 12, 5, 1, 0, tzinfo=UTC).timestamp()
    monday_8am = datetime(2026, 11, 30, 1, 0, tzinfo=UTC).timestamp()
    holiday_noon = datetime(2026, 12, 31, 5, 0, tzinfo=UTC).timestamp()
    assert schedule.is_night(saturday_8am)
    assert not schedule.is_night(monday_8am)
    assert schedule.is_night(holiday_noon)
    router = make_router(night=schedule)
    router.apply(e.NightModeOverride("night"), monday_8am)
    assert only(arrive(router, "x", monday_8am), c.PlayAutoAttendant)
    router.apply(e.NightModeOverride("day"), holiday_noon)
    assert not only(arrive(router, "y", holiday_noon), c.PlayAutoAttendant)


def test_emergency_announcement_precedes_every_call() -> None:
    router = make_router()
    router.apply(e.EmergencyMode(True, "Уважаемые абоненты, ..."), T0)
    commands = arrive(router, "c1")
    assert isinstance(commands[0], c.Announce) and commands[0].kind == "emergency"
    router.apply(e.EmergencyMode(False), T0)
    assert not only(arrive(router, "c2"), c.Announce)


def test_replay_rebuilds_state_and_command_ids() -> None:
    log = [
        (T0, e.AgentLoggedIn("a", {"general": 3}, {"ru": 5})),
        (T0, e.AgentReady("a")),
        (T0 + 1, e.CallArrived("c1", "main")),
        (T0 + 2, e.CallArrived("c2", "main")),
        (T0 + 3, e.AgentAnswered("c1", "a")),
    ]
    first = make_router()
    ids = [
        cmd.command_id
        for now, ev in log
        for cmd in first.apply(ev, now)
        if hasattr(cmd, "command_id")
    ]
    rebuilt = replay(
        first.config, [(now, e.event_from_record(e.event_to_record(ev))) for now, ev in log]
    )
    assert wallboard(rebuilt, T0 + 4) == wallboard(first, T0 + 4)
    again = make_router()
    assert ids == [
        cmd.command_id
        for now, ev in log
        for cmd in again.apply(ev, now)
        if hasattr(cmd, "command_id")
    ]
    assert len(set(ids)) == len(ids)


def test_step_is_apply_spelled_functionally() -> None:
    state = make_router()
    login(state, "a")
    same, commands = step(state, e.CallArrived("c1", "main"), T0)
    assert same is state
    assert [cmd.command_id for cmd in only(commands, c.ConnectAgent)] == [f"c1/{state.seq}"]


def test_event_records_reject_unknown_types() -> None:
    record = e.event_to_record(e.NeighbourStatus("tomsk", {"general": 12.5}))
    assert record == {
        "type": "NeighbourStatus",
        "centre": "tomsk",
        "waits": {"general": 12.5},
        "accepting": True,
    }
    with pytest.raises(ValueError, match="unknown ACD event type: 'CallTeleported'"):
        e.event_from_record({"type": "CallTeleported", "call_id": "x"})


def test_every_command_type_round_trips_through_its_record() -> None:
    assert set(c.COMMAND_TYPES) == {cls.__name__ for cls in c.ACTIONS + c.RECORDS}
    command = c.EndCall(7, "x", "deadline: no agent for this topic")
    assert c.command_from_record(c.command_to_record(command)) == command
    assert command.command_id == "x/7"
    with pytest.raises(ValueError, match="unknown ACD command type"):
        c.command_from_record({"type": "Teleport"})


def test_wallboard_figures() -> None:
    router = busy_router(agents=1, guarantee=False)
    arrive(router, "w1", T0 + 5)
    arrive(router, "w2", T0 + 8, topic="pensions")
    login(router, "p", {"tax": 3})
    router.apply(e.AgentPaused("p", "lunch"), T0 + 9)
    board = wallboard(router, T0 + 20)
    assert board["waiting_by_topic"] == {"general": 1, "pensions": 1}
    assert board["longest_wait_seconds"] == 15.0
    assert board["agents"] == {"ready": 0, "ringing": 0, "talking": 1, "wrap_up": 0, "paused": 1}
    assert board["paused_by_reason"] == {"lunch": 1}
    login(router, "idle", {"tax": 3}, now=T0 + 12)
    assert wallboard(router, T0 + 20)["longest_idle_seconds"] == 8.0
    assert board["night_mode"] is False
