"""The status of a complaint by voice (R9): the number, the caller's own phone digits as the
second factor, typed digits when those do not match, and every way the look-up can end."""

from __future__ import annotations

from ivr_support import CALLER, Caller, context, media

from services.ivr import outputs as o
from services.ivr.media import prompt_media

NUMBER = "123456789"
SPOKEN = "Жалоба номер 123 456 789: передана в ведомство."


def asking_status(caller: Caller | None = None) -> Caller:
    """Through the topic menu (7) and the complaint menu (3) to the number, typed in."""
    caller = (caller or Caller()).listen().listen().press("7")
    assert caller.last_play.media == media("main", "complaint_menu")
    caller.press("3")
    assert caller.last_play.media == media("main", "complaint_number")
    return caller.press(NUMBER)


def test_found_with_the_callers_own_number() -> None:
    caller = asking_status()
    assert caller.lookups == [o.FetchStatus(NUMBER, CALLER[-4:])]
    assert caller.timer is not None  # the look-up has `wait` seconds
    caller.status("found", SPOKEN)
    assert caller.timer is None
    spoken = prompt_media(SPOKEN)
    assert caller.last_play.media == (spoken,)
    assert caller.last_play.texts == ((spoken, SPOKEN),)
    caller.listen()
    assert caller.last_play.media == media("main", "after_status")
    caller.listen().press("0")
    assert isinstance(caller.outcome, o.RouteToQueue)
    assert caller.outcome.topic == "complaints"
    assert caller.outcome.variables["complaint_number"] == NUMBER
    assert caller.outcome.variables["status_result"] == "found"


def test_not_the_callers_phone_asks_for_the_registered_digits() -> None:
    caller = asking_status().status("not_found")
    assert caller.last_play.media == media("main", "complaint_phone")
    caller.press("9876")
    assert caller.lookups[-1] == o.FetchStatus(NUMBER, "9876")
    caller.status("found", SPOKEN).listen()
    assert caller.last_play.media == media("main", "after_status")


def test_no_match_with_typed_digits_says_so() -> None:
    caller = asking_status().status("not_found").press("9876").status("not_found")
    assert caller.last_play.media == media("main", "complaint_status_unknown")
    caller.listen()
    assert caller.last_play.media == media("main", "after_status")
    caller.listen().wait()
    assert isinstance(caller.outcome, o.Hangup)
    assert caller.outcome.variables["status_result"] == "not_found"


def test_a_failed_or_slow_look_up_says_the_service_is_unavailable() -> None:
    refused = asking_status().status("unavailable")
    assert refused.last_play.media == media("main", "complaint_status_unavailable")
    slow = asking_status().wait()  # no answer within `wait`
    assert slow.last_play.media == media("main", "complaint_status_unavailable")
    assert slow.session.on_status("found", SPOKEN) == []  # too late: ignored
    slow.listen()
    assert slow.last_play.media == media("main", "after_status")


def test_a_hidden_caller_id_goes_straight_to_the_digits() -> None:
    caller = asking_status(Caller(context(caller="")))
    assert caller.lookups == []
    assert caller.last_play.media == media("main", "complaint_phone")
    caller.press("4567")
    assert caller.lookups == [o.FetchStatus(NUMBER, "4567")]


def test_a_short_number_is_refused_before_any_look_up() -> None:
    caller = Caller().listen().listen().press("73").press("12345#")
    assert caller.lookups == []
    assert caller.last_play.media == media("main", "complaint_number_invalid", "complaint_number")


def test_hang_up_during_the_look_up() -> None:
    caller = asking_status().hang_up()
    assert caller.session.finished
    assert caller.session.on_status("found", SPOKEN) == []
    assert caller.outcomes == []


def test_another_number_after_a_status() -> None:
    caller = asking_status().status("found", SPOKEN).listen().listen().press("1")
    assert caller.last_play.media == media("main", "complaint_number")
    caller.press("987654321")
    assert caller.lookups[-1] == o.FetchStatus("987654321", CALLER[-4:])
