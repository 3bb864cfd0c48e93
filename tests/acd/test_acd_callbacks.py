"""Callbacks and transfers in the core: due times, deadlines, dialling, retries, merge, replay."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from services.acd import commands as c
from services.acd import events as e
from services.acd.model import DIALLING, SCHEDULED, STATE_NAMES, TALKING, WAITING
from services.acd.router import RouterState, replay
from services.acd.schedule import NightSchedule, Window, callback_due_from, next_opening
from tests.acd.acd_support import T0, arrive, connected, login, make_router, only

# T0 is 17:00 in Novokuznetsk (UTC+7); local times below are built from UTC hours.
HOUR = 3600.0


def at_local(day: int, hour: int, minute: int = 0) -> float:
    """Unix time of ``hour:minute`` Novokuznetsk time, ``day`` counted from 30 Nov 2026 (Mon)."""
    base = datetime(2026, 11, 30, tzinfo=ZoneInfo("Asia/Novokuznetsk"))
    return (base + timedelta(days=day - 30, hours=hour, minutes=minute)).timestamp()


def request(router: RouterState, cb: str, now: float, **fields: object) -> list[c.Command]:
    return router.apply(e.CallbackRequested(cb, **fields), now)  # type: ignore[arg-type]


def scheduled(commands: list[c.Command]) -> list[tuple[str, float, float, int]]:
    return [
        (s.callback_id, s.due_at, s.deadline, s.attempt)
        for s in only(commands, c.CallbackScheduled)
    ]


def outcomes(commands: list[c.Command]) -> list[tuple[str, str]]:
    return [(f.call_id, f.outcome) for f in only(commands, c.CallFinished)]


def dialled(commands: list[c.Command]) -> list[tuple[str, str, int]]:
    return [(d.callback_id, d.agent_id, d.attempt) for d in only(commands, c.DialCallback)]


def dial_through(router: RouterState, cb: str, agent: str, now: float) -> list[c.Command]:
    """The agent answers the callback leg and the citizen answers."""
    assert router.apply(e.AgentAnswered(cb, agent), now) == []
    assert router.items[cb].state == DIALLING
    return router.apply(e.CallbackResult(cb, agent, "answered"), now + 5)


def test_callback_line_request_is_dialled_answered_and_wrapped_up() -> None:
    router = make_router(topics={"general": {"wrap_up_seconds": 10}})
    login(router, "a", now=T0 - 5)
    commands = request(router, "cb1", T0, caller="+79001", source="callback_line")
    assert scheduled(commands) == [("cb1", T0, T0 + 600, 1)]
    (dial,) = only(commands, c.DialCallback)
    assert (dial.agent_id, dial.caller, dial.attempt, dial.topic) == ("a", "+79001", 1, "general")
    assert dial.ring_timeout == router.config.ring_timeout_seconds
    answered = dial_through(router, "cb1", "a", T0 + 3)
    assert [(x.call_id, x.waited) for x in only(answered, c.CallAnswered)] == [("cb1", 8.0)]
    ended = router.apply(e.CallEnded("cb1"), T0 + 60)
    assert outcomes(ended) == [("cb1", "callback_done")]
    assert router.next_timer() == T0 + 70  # wrap-up before the next item
    assert router.pending_callers == {}


def test_deadline_counts_from_the_requested_time() -> None:
    router = make_router()
    commands = request(router, "cb1", T0 + 30, requested_at=T0, source="operator")
    assert scheduled(commands) == [("cb1", T0, T0 + 600, 1)]
    assert router.items["cb1"].deadline == T0 + 600


def test_night_request_is_due_when_calling_citizens_is_allowed_after_opening() -> None:
    router = make_router()
    night = at_local(30, 2)
    commands = request(router, "n1", night, caller="+79002", source="callback_line")
    assert router.is_night(night)
    # Night ends at 06:00, citizens may be called from 08:00: the promise counts from 08:00.
    assert scheduled(commands) == [("n1", at_local(30, 8), at_local(30, 8) + 600, 1)]
    assert router.items["n1"].state == SCHEDULED
    login(router, "a", now=at_local(30, 7))
    assert router.next_timer() == at_local(30, 8)
    assert dialled(router.apply(e.ScheduleTick(), at_local(30, 8))) == [("n1", "a", 1)]

    early = make_router(callback_hours=("06:00", "21:00"))
    commands = request(early, "n2", night, source="night")
    assert scheduled(commands)[0][1] == at_local(30, 6)


def test_night_source_delivered_in_the_day_counts_from_the_opening() -> None:
    router = make_router(callback_hours=("06:00", "21:00"))
    commands = request(router, "n1", T0, requested_at=at_local(30, 3), source="night")
    assert scheduled(commands) == [("n1", at_local(30, 6), at_local(30, 6) + 600, 1)]


def test_night_requests_are_served_in_request_order() -> None:
    router = make_router(callback_hours=("06:00", "21:00"))
    request(router, "late", at_local(30, 4), source="night")
    request(router, "early", at_local(30, 5), requested_at=at_local(30, 1), source="night")
    login(router, "a", now=at_local(30, 5, 30))
    commands = router.apply(e.ScheduleTick(), at_local(30, 6))
    assert dialled(commands) == [("early", "a", 1)]


def test_request_after_callback_hours_waits_for_the_morning() -> None:
    router = make_router()
    login(router, "a", now=at_local(30, 21, 30))
    evening = at_local(30, 22)
    commands = request(router, "cb1", evening, source="callback_line")
    tomorrow = at_local(31, 8)
    assert scheduled(commands) == [("cb1", tomorrow, tomorrow + 600, 1)]
    assert dialled(commands) == []


def test_waiting_callbacks_are_held_outside_callback_hours() -> None:
    router = make_router(callback_hours=("08:00", "21:00"))
    request(router, "cb1", at_local(30, 20, 50), source="callback_line")  # nobody ready yet
    commands = login(router, "a", now=at_local(30, 21, 5))
    assert dialled(commands) == []
    assert router.items["cb1"].state == WAITING
    morning = at_local(31, 8)
    assert router.next_timer() == morning
    assert dialled(router.apply(e.ScheduleTick(), morning)) == [("cb1", "a", 1)]


def test_failed_attempts_are_retried_then_given_up() -> None:
    router = make_router(callback_max_attempts=2, callback_retry_seconds=120)
    login(router, "a", now=T0 - 1)
    request(router, "cb1", T0, caller="+79003")
    router.apply(e.AgentAnswered("cb1", "a"), T0 + 2)
    commands = router.apply(e.CallbackResult("cb1", "a", "busy"), T0 + 10)
    attempts = only(commands, c.CallbackAttempted)
    assert [(x.callback_id, x.agent_id, x.attempt, x.result) for x in attempts] == [
        ("cb1", "a", 1, "busy")
    ]
    assert scheduled(commands) == [("cb1", T0 + 130, T0 + 730, 2)]
    assert router.agents["a"].item is None  # free at once, no wrap-up
    commands = arrive(router, "live", T0 + 20)
    assert [cmd.agent_id for cmd in only(commands, c.ConnectAgent)] == ["a"]
    router.apply(e.AgentAnswered("live", "a"), T0 + 21)
    router.apply(e.CallEnded("live"), T0 + 100)
    assert dialled(router.apply(e.ScheduleTick(), T0 + 130)) == [("cb1", "a", 2)]
    router.apply(e.AgentAnswered("cb1", "a"), T0 + 131)
    commands = router.apply(e.CallbackResult("cb1", "a", "no_answer"), T0 + 160)
    assert outcomes(commands) == [("cb1", "callback_failed")]
    assert "+79003" not in router.pending_callers


def test_ring_no_answer_puts_the_callback_back_without_an_attempt() -> None:
    router = make_router(max_missed_rings=1)
    login(router, "a", now=T0 - 2)
    login(router, "b", now=T0 - 1)
    request(router, "cb1", T0)
    commands = router.apply(e.AgentNoAnswer("cb1", "a"), T0 + 15)
    assert [p.agent_id for p in only(commands, c.PauseAgent)] == ["a"]
    assert dialled(commands) == [("cb1", "b", 1)]
    assert only(commands, c.CallbackAttempted) == []


def test_cancel_stops_the_callback_in_any_state() -> None:
    router = make_router()
    request(router, "waiting", T0)
    commands = router.apply(e.CallbackCancelled("waiting", "citizen_request"), T0 + 1)
    assert outcomes(commands) == [("waiting", "callback_cancelled")]
    assert [(d.action, d.reason) for d in only(commands, c.Decision)] == [
        ("cancel", "citizen_request")
    ]
    login(router, "a", now=T0 + 2)
    request(router, "ringing", T0 + 3)
    commands = router.apply(e.CallbackCancelled("ringing"), T0 + 4)
    assert [(s.call_id, s.agent_id) for s in only(commands, c.StopRinging)] == [("ringing", "a")]
    assert router.agents["a"].item is None
    request(router, "dialling", T0 + 4)
    router.apply(e.AgentAnswered("dialling", "a"), T0 + 4.5)  # the citizen's phone rings now
    commands = router.apply(e.CallbackCancelled("dialling"), T0 + 4.8)
    assert [(s.call_id, s.agent_id) for s in only(commands, c.StopRinging)] == [("dialling", "a")]
    assert router.agents["a"].item is None
    unknown = router.apply(e.CallbackCancelled("nope"), T0 + 5)
    assert [d.action for d in only(unknown, c.Decision)] == ["ignore"]
    request(router, "night", at_local(31, 2), source="night")
    assert router.items["night"].state == SCHEDULED
    assert outcomes(router.apply(e.CallbackCancelled("night"), at_local(31, 3))) == [
        ("night", "callback_cancelled")
    ]


def test_duplicate_request_is_merged_into_the_pending_callback() -> None:
    router = make_router(callback_retry_seconds=300)
    login(router, "a", now=T0 - 1)
    request(router, "cb1", T0, caller="+79004")
    router.apply(e.AgentAnswered("cb1", "a"), T0 + 1)
    router.apply(e.CallbackResult("cb1", "a", "no_answer"), T0 + 30)  # retry due T0 + 330
    router.apply(e.AgentPaused("a"), T0 + 31)
    commands = request(router, "cb2", T0 + 40, caller="+79004")
    assert outcomes(commands) == [("cb2", "callback_merged")]
    assert [d.action for d in only(commands, c.Decision)] == ["merge"]
    assert "cb2" not in router.items
    # The new request promised sooner: the pending one takes the earlier promise.
    assert scheduled(commands) == [("cb1", T0 + 40, T0 + 640, 2)]
    commands = request(router, "cb3", T0 + 50, caller="+79004")
    assert outcomes(commands) == [("cb3", "callback_merged")]
    assert scheduled(commands) == []  # a later promise changes nothing
    assert router.items["cb1"].deadline == T0 + 640


def test_answered_live_call_closes_the_pending_callback_but_not_one_being_dialled() -> None:
    router = make_router(auto_answer=False)
    login(router, "a", now=T0 - 1)
    arrive(router, "busy", T0)
    router.apply(e.AgentAnswered("busy", "a"), T0 + 1)
    router.apply(e.CallArrived("again", "main", caller="+79005"), T0 + 2)
    request(router, "cb1", T0 + 3, caller="+79005")
    commands = router.apply(e.CallEnded("busy"), T0 + 10)
    assert connected(commands) == [("again", "a")]  # the live call joined first
    commands = router.apply(e.AgentAnswered("again", "a"), T0 + 12)
    assert outcomes(commands) == [("cb1", "callback_closed")]

    request(router, "cb2", T0 + 20, caller="+79006")
    router.apply(e.CallEnded("again"), T0 + 30)
    router.apply(e.AgentAnswered("cb2", "a"), T0 + 31)  # now dialling the citizen
    login(router, "b", now=T0 + 32)
    router.apply(e.CallArrived("third", "main", caller="+79006"), T0 + 33)
    commands = router.apply(e.AgentAnswered("third", "b"), T0 + 35)
    assert outcomes(commands) == []
    assert router.items["cb2"].state == DIALLING


def test_edf_among_callbacks_and_urgency_against_live_calls() -> None:
    router = make_router(guarantee=False, callback_within_seconds=60, callback_lead_seconds=30)
    login(router, "a", now=T0 - 1)
    arrive(router, "busy", T0)
    router.apply(e.AgentAnswered("busy", "a"), T0)
    arrive(router, "live", T0 + 3)
    request(router, "later", T0 + 5)  # deadline T0 + 65
    request(router, "sooner", T0 + 6, requested_at=T0 + 4)  # deadline T0 + 64
    # At T0 + 10 "sooner" has 54 s of slack: not urgent, and "live" joined the line first.
    commands = router.apply(e.CallEnded("busy"), T0 + 10)
    assert connected(commands) == [("live", "a")]
    router.apply(e.AgentAnswered("live", "a"), T0 + 11)
    arrive(router, "live2", T0 + 12)
    # At T0 + 40 the earliest deadline is 24 s away: urgent, ahead of "live2" and of "later".
    commands = router.apply(e.CallEnded("live"), T0 + 40)
    assert dialled(commands) == [("sooner", "a", 1)]


def test_transfer_of_a_connected_call() -> None:
    router = make_router(topics={"general": {"wrap_up_seconds": 20}})
    login(router, "a", now=T0 - 1)
    arrive(router, "c1", T0)
    refused = router.apply(e.TransferRequested("c1", "a", "+73842000000"), T0 + 1)
    assert [(d.action, d.reason) for d in only(refused, c.Decision)] == [
        ("transfer_refused", "call is not connected")
    ]
    router.apply(e.AgentAnswered("c1", "a"), T0 + 2)
    wrong = router.apply(e.TransferRequested("c1", "b", "+73842000000"), T0 + 3)
    assert only(wrong, c.Decision)[0].reason.startswith("call is connected to another agent")
    commands = router.apply(e.TransferRequested("c1", "a", "+73842000000"), T0 + 30)
    assert [(t.call_id, t.number) for t in only(commands, c.TransferCall)] == [
        ("c1", "+73842000000")
    ]
    assert outcomes(commands) == [("c1", "transferred")]
    assert router.next_timer() == T0 + 50  # the agent wraps up
    unknown = router.apply(e.TransferRequested("c1", "a", "+7"), T0 + 31)
    assert only(unknown, c.Decision)[0].reason == "unknown call"


def test_replayed_state_has_the_same_pending_callbacks() -> None:
    config = make_router(callback_retry_seconds=60).config
    log: list[tuple[float, e.Event]] = [
        (T0 - 5, e.AgentLoggedIn("a", {"general": 3}, {"ru": 5})),
        (T0 - 5, e.AgentReady("a")),
        (T0, e.CallbackRequested("cb1", caller="+79007")),
        (T0 + 1, e.AgentAnswered("cb1", "a")),
        (T0 + 9, e.CallbackResult("cb1", "a", "busy")),
        (T0 + 10, e.AgentPaused("a")),
        (T0 + 20, e.CallbackRequested("cb2", caller="+79008", requested_at=T0 + 5)),
        (at_local(31, 2), e.CallbackRequested("cb3", source="night")),
    ]
    live = RouterState(config)
    for now, event in log:
        live.apply(event, now)
    rebuilt = replay(config, log)

    def pending(state: RouterState) -> list[tuple[str, str, float, float, int]]:
        return sorted(
            (i.id, STATE_NAMES[i.state], i.due_at, i.deadline, i.attempt)
            for i in state.items.values()
        )

    assert pending(rebuilt) == pending(live)
    assert pending(live) == [
        ("cb1", "waiting", T0 + 69, T0 + 669, 2),
        ("cb2", "waiting", T0 + 5, T0 + 605, 1),
        ("cb3", "scheduled", at_local(31, 8), at_local(31, 8) + 600, 1),
    ]
    assert rebuilt.next_timer() == live.next_timer()


def test_new_events_and_records_round_trip() -> None:
    for event in (
        e.CallbackRequested("cb", caller="+7", requested_at=T0, source="night"),
        e.CallbackResult("cb", "a", "hung_up"),
        e.CallbackCancelled("cb", "staff"),
        e.TransferRequested("c", "a", "+7384"),
    ):
        assert e.event_from_record(e.event_to_record(event)) == event
    for command in (
        c.TransferCall(1, "c", "+7384"),
        c.CallbackScheduled(2, "cb", "+7", "general", "queue", T0, T0, T0 + 600, 1),
        c.CallbackAttempted(3, "cb", "a", 1, "busy"),
        c.DialCallback(4, "cb", "a", "+7", 1.0, 2, "pensions", 10.0),
    ):
        assert c.command_from_record(c.command_to_record(command)) == command
    assert c.TransferCall in c.ACTIONS and c.CallbackScheduled in c.RECORDS


def test_opening_and_due_time_helpers() -> None:
    schedule = NightSchedule(holidays=(date(2026, 12, 1),))
    # Monday 02:00: night until 06:00. Tuesday is a whole-day holiday: Wednesday 06:00.
    assert next_opening(schedule, at_local(30, 2)) == at_local(30, 6)
    assert next_opening(schedule, at_local(30, 12)) == at_local(30, 12)
    assert next_opening(schedule, at_local(31, 0)) == at_local(32, 6)
    assert at_local(32, 6) == datetime(2026, 12, 1, 23, tzinfo=UTC).timestamp()
    hours = ("08:00", "21:00")
    assert callback_due_from(schedule, hours, at_local(30, 2), True) == at_local(30, 8)
    assert callback_due_from(schedule, hours, at_local(30, 9), False) == at_local(30, 9)
    evening = NightSchedule(default=(Window(start="22:00", end="24:00"),))
    assert next_opening(evening, at_local(30, 23)) == at_local(31, 0)


def test_cancelling_a_callback_in_conversation_does_not_free_the_agent() -> None:
    router = make_router()
    login(router, "a", now=T0 - 1)
    request(router, "cb1", T0)
    dial_through(router, "cb1", "a", T0 + 1)
    commands = router.apply(e.CallbackCancelled("cb1", "staff"), T0 + 20)
    assert [(d.action, d.reason) for d in only(commands, c.Decision)] == [
        ("ignore", "callback_cancel staff: already talking")
    ]
    assert outcomes(commands) == []
    assert connected(arrive(router, "live", T0 + 21)) == []  # the agent is still on the phone
    assert outcomes(router.apply(e.CallEnded("cb1"), T0 + 60)) == [("cb1", "callback_done")]


def test_a_lifted_night_override_lets_waiting_callbacks_be_dialled() -> None:
    router = make_router()
    request(router, "cb1", T0)  # daytime: due at once, nobody ready
    router.apply(e.NightModeOverride("night"), T0 + 1)
    assert dialled(login(router, "a", now=T0 + 2)) == []  # no calling citizens in night mode
    assert router.next_timer() is None  # a forced night has no end the core could know
    commands = router.apply(e.NightModeOverride("auto"), T0 + 30)
    assert dialled(commands) == [("cb1", "a", 1)]


def test_a_callback_booked_by_the_operator_during_the_call_is_kept() -> None:
    """The workspace cites the conversation's call id; the callback must not be mistaken for
    a queued caller accepting an offer (which would drop it because the call is connected)."""
    router = make_router()
    login(router, "a", now=T0 - 1)
    arrive(router, "c1", T0)
    router.apply(e.AgentAnswered("c1", "a"), T0 + 1)
    commands = request(router, "cb-op", T0 + 30, call_id="c1", caller="+79010", source="operator")
    assert scheduled(commands) == [("cb-op", T0 + 30, T0 + 630, 1)]
    assert router.items["c1"].state == TALKING and "cb-op" in router.items


def test_a_callback_in_conversation_cannot_be_transferred() -> None:
    router = make_router()
    login(router, "a", now=T0 - 1)
    request(router, "cb1", T0, caller="+79011")
    dial_through(router, "cb1", "a", T0 + 1)
    commands = router.apply(e.TransferRequested("cb1", "a", "73842000000"), T0 + 20)
    assert only(commands, c.TransferCall) == [] and outcomes(commands) == []
    assert only(commands, c.Decision)[0].action == "transfer_refused"
    assert router.items["cb1"].state == TALKING
