"""Night mode (R1) by the ACD's schedule, holidays, emergency announcements (R5), the callback
number (R3), and callers who hang up anywhere."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from ivr_support import CALLBACK_DID, CALLER, LIBRARY, TZ, Caller, context, media

from services.acd.schedule import NightSchedule
from services.ivr import outputs as o
from services.ivr.engine import IvrSession
from services.ivr.media import prompt_media
from services.ivr.schema import parse_flow

HOLIDAY = date(2027, 1, 7)
SCHEDULE = NightSchedule(timezone="Asia/Novokuznetsk", holidays=(HOLIDAY,))


def call_at(now: datetime) -> Caller:
    """A call whose night flag comes from the schedule, as the bridge computes it."""
    night = SCHEDULE.is_night(now.timestamp())
    return Caller(context(now=now, night=night, holidays=frozenset(SCHEDULE.holidays)))


@pytest.mark.parametrize(
    ("clock", "night"),
    [((23, 59, 59), False), ((0, 0, 0), True), ((5, 59, 59), True), ((6, 0, 0), False)],
)
def test_night_mode_boundaries_in_the_centres_zone(
    clock: tuple[int, int, int], night: bool
) -> None:
    caller = call_at(datetime(2026, 12, 2, *clock, tzinfo=TZ))
    expected = media("night", "night_hello") if night else media("main", "greeting")
    assert caller.last_play.media == expected


def test_holiday_runs_the_night_flow_with_a_holiday_greeting() -> None:
    caller = call_at(datetime(2027, 1, 7, 14, 30, tzinfo=TZ))
    assert caller.last_play.media == media("night", "holiday_hello")
    assert caller.listen().last_play.media == media("night", "night_menu")


def at_night() -> Caller:
    caller = Caller(context(now=datetime(2026, 12, 2, 3, 0, tzinfo=TZ), night=True))
    return caller.listen().listen()


def test_night_callback_request_for_the_morning() -> None:
    caller = at_night().press("2")
    assert caller.outcome == o.RequestCallback(
        number="79131234567",
        variables=caller.session.variables,
        when="morning",
        farewell=media("night", "callback_morning"),
    )


def test_night_self_service_then_a_morning_callback() -> None:
    caller = at_night().press("1")
    assert caller.last_play.media == media("night", "night_topics")
    caller.press("3").answer("Паспорт меняют в 20 и 45 лет.").listen().listen().press("2")
    assert isinstance(caller.outcome, o.RequestCallback) and caller.outcome.when == "morning"
    assert caller.outcome.variables["topic"] == "passports"


def test_night_complaint_is_recorded() -> None:
    caller = at_night().press("3").listen().recorded(15)
    assert isinstance(caller.outcome, o.RecordedMessage)
    assert caller.outcome.farewell == media("night", "complaint_recorded")


def test_night_silence_says_goodbye() -> None:
    caller = at_night().wait().listen().wait().listen().wait()
    assert caller.outcome == o.Hangup(
        "completed", caller.session.variables, media("night", "night_goodbye")
    )


ANNOUNCEMENT = "Из-за аварии на теплотрассе приём в МФЦ Центрального района отменён до 12 часов."


def test_emergency_announcement_comes_first_and_is_synthesised_from_its_text() -> None:
    caller = Caller(context(emergency=True, announcement=ANNOUNCEMENT))
    spoken = prompt_media(ANNOUNCEMENT)
    assert caller.last_play.media == (*media("main", "emergency_intro"), spoken)
    assert caller.last_play.texts == ((spoken, ANNOUNCEMENT),)
    caller.press("0")  # the announcement cannot be skipped
    assert caller.listen().last_play.media == media("main", "greeting")


def test_emergency_announcement_before_night_mode() -> None:
    caller = Caller(context(emergency=True, announcement=ANNOUNCEMENT, night=True))
    assert prompt_media(ANNOUNCEMENT) in caller.last_play.media
    assert caller.listen().last_play.media == media("night", "night_hello")


def test_no_announcement_when_emergency_mode_is_off() -> None:
    caller = Caller(context(emergency=False, announcement=ANNOUNCEMENT))
    assert caller.last_play.media == media("main", "greeting")
    assert all(not play.texts for play in caller.plays)


def at_callback_number(caller_number: str = CALLER) -> Caller:
    caller = Caller(context(did=CALLBACK_DID, caller=caller_number))
    assert caller.last_play.media == media("callback", "hello")
    return caller.listen()


def test_callback_number_confirms_the_callers_number() -> None:
    caller = at_callback_number()
    assert caller.last_play.media == (
        *media("callback", "number_is"),
        "digits:79131234567",
        *media("callback", "confirm_options"),
    )
    caller.press("1")
    assert caller.outcome == o.RequestCallback(
        number="79131234567",
        variables=caller.session.variables,
        when="now",
        farewell=media("callback", "registered"),
    )
    assert caller.outcome.variables["callback_number"] == CALLER


def test_callback_to_another_number() -> None:
    caller = at_callback_number().press("2")
    assert caller.last_play.media == media("callback", "enter_number")
    caller.press("9059876543#")
    assert "digits:9059876543" in caller.last_play.media
    caller.press("1")
    assert isinstance(caller.outcome, o.RequestCallback)
    assert caller.outcome.number == "9059876543"


def test_callback_from_a_hidden_number_asks_for_one() -> None:
    caller = at_callback_number(caller_number="")
    assert caller.last_play.media == media("callback", "enter_number")
    caller.press("123#")
    assert caller.last_play.media == media("callback", "number_invalid", "enter_number")
    caller.press("45#").listen().wait()
    assert caller.outcome == o.Hangup(
        "no_number", caller.session.variables, media("callback", "sorry")
    )


# --- hang-up anywhere -------------------------------------------------------------------

Step = Callable[[Caller], Caller]
SCRIPTS: dict[str, tuple[str, list[Step]]] = {
    "topic": (
        "88005550100",
        [
            Caller.listen,
            Caller.listen,
            lambda c: c.press("1"),
            lambda c: c.answer("Ответ."),
            Caller.listen,
            Caller.listen,
            lambda c: c.press("0"),
            Caller.listen,
        ],
    ),
    "complaint": (
        "88005550100",
        [
            Caller.listen,
            Caller.listen,
            lambda c: c.press("7"),
            Caller.listen,
            lambda c: c.press("1"),
            Caller.listen,
        ],
    ),
    "callback": (
        CALLBACK_DID,
        [
            Caller.listen,
            lambda c: c.press("2"),
            lambda c: c.press("9131112233#"),
            Caller.listen,
            lambda c: c.press("1"),
        ],
    ),
}


@pytest.mark.parametrize(
    ("script", "hang_up_after"),
    [(name, n) for name, (_, steps) in SCRIPTS.items() for n in range(len(steps))],
)
def test_hang_up_at_any_node_ends_quietly(script: str, hang_up_after: int) -> None:
    did, steps = SCRIPTS[script]
    caller = Caller(context(did=did))
    for step in steps[:hang_up_after]:
        step(caller)
    playing, timer = caller.playing, caller.timer
    caller.hang_up()
    assert caller.outcomes == []
    assert caller.session.finished or caller.recording is not None
    if timer is not None:
        assert caller.outputs[-1] == o.CancelTimer(timer)
    # late events for a dropped call produce nothing
    assert caller.session.on_playback_finished(playing or "") == []
    assert caller.session.on_dtmf("1") == []
    assert caller.session.on_timeout(timer or "") == []
    assert caller.session.on_hangup() == []


def test_stale_playbacks_and_timers_are_ignored() -> None:
    caller = Caller().listen()
    first_menu_timer = caller.listen().timer
    caller.wait()  # replays the menu; the old timer is gone
    assert caller.session.on_timeout(first_menu_timer or "") == []
    assert caller.session.on_playback_finished("c1-pb1") == []


def test_a_flow_of_branches_in_a_circle_hangs_up_instead_of_spinning() -> None:
    flow = parse_flow(
        {
            "start": "a",
            "nodes": {
                "a": {
                    "kind": "branch",
                    "branches": [{"flag": "night", "next": "b"}],
                    "default": "b",
                },
                "b": {
                    "kind": "branch",
                    "branches": [{"flag": "night", "next": "a"}],
                    "default": "a",
                },
            },
        },
        "loop.yaml",
        "loop",
    )
    session = IvrSession(flow, context())
    assert session.start() == [o.Hangup("flow_loop", session.variables)]
    assert session.start() == []


@pytest.mark.parametrize(
    ("hour", "expected"),
    [(8, "day"), (17, "day"), (18, "evening"), (23, "evening"), (7, "evening")],
)
def test_branch_on_a_local_time_window_across_midnight(hour: int, expected: str) -> None:
    flow = parse_flow(
        {
            "start": "when",
            "nodes": {
                "when": {
                    "kind": "branch",
                    "branches": [{"from": "18:00", "to": "08:00", "next": "evening"}],
                    "default": "day",
                },
                "evening": {"kind": "hangup", "reason": "evening"},
                "day": {"kind": "hangup", "reason": "day"},
            },
        },
        "t.yaml",
        "t",
    )
    session = IvrSession(flow, context(now=datetime(2026, 12, 2, hour, 0, tzinfo=TZ)))
    assert session.start() == [o.Hangup(expected, session.variables)]


def test_each_number_gets_its_flow() -> None:
    assert LIBRARY.for_did(CALLBACK_DID).name == "callback"
    assert LIBRARY.for_did("73843000000").name == "main"
    assert LIBRARY.for_did("unknown").name == "main"


def test_transfer_to_an_agency_says_goodbye_and_reads_numbers() -> None:
    flow = parse_flow(
        {
            "start": "ask",
            "nodes": {
                "ask": {
                    "kind": "collect",
                    "say": "office",
                    "variable": "office",
                    "max_length": 3,
                    "next": "read",
                },
                "read": {"kind": "play", "say": ["office", {"number": "office"}], "next": "go"},
                "go": {"kind": "transfer", "number": "73843000100", "say": "bye"},
            },
            "prompts": {"office": "Номер окна", "bye": "Соединяю с МФЦ."},
        },
        "agency.yaml",
        "agency",
    )
    session = IvrSession(flow, context())
    session.start()
    outputs = session.on_dtmf("0") + session.on_dtmf("1") + session.on_dtmf("2")
    play = outputs[-1]
    assert isinstance(play, o.Play) and play.media[-1] == "number:12"
    assert session.on_playback_finished(play.playback_id) == [
        o.Transfer("73843000100", session.variables, (prompt_media("Соединяю с МФЦ."),))
    ]


def test_goto_an_unknown_flow_at_run_time_hangs_up() -> None:
    flow = parse_flow(
        {"start": "go", "nodes": {"go": {"kind": "goto", "flow": "absent"}}}, "g.yaml", "g"
    )
    session = IvrSession(flow, context())
    assert session.start() == [o.Hangup("unknown_flow", session.variables)]
