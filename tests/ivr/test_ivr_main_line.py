"""The main line's flow, key by key: topics, self-service, status, complaints, bus.gov.ru."""

from __future__ import annotations

import pytest
from ivr_support import CALLER, Caller, media

from services.ivr import outputs as o
from services.ivr.media import prompt_media

ANSWER = "Как записаться в МФЦ. Через портал госуслуг или по телефону."


def at_topic_menu() -> Caller:
    caller = Caller()
    assert caller.last_play.media == media("main", "greeting")
    caller.listen()
    assert caller.last_play.media == media("main", "topic_menu")
    return caller.listen()


@pytest.mark.parametrize(
    ("key", "topic"),
    [
        ("1", "mfc"),
        ("2", "social"),
        ("3", "passports"),
        ("4", "health"),
        ("5", "housing"),
        ("8", "techhelp"),
    ],
)
def test_each_self_service_topic_reads_answers_then_queues_on_its_topic(
    key: str, topic: str
) -> None:
    caller = at_topic_menu().press(key)
    assert caller.fetches == [o.FetchInformation(topic=topic, service=None, limit=3)]
    caller.answer(ANSWER)
    spoken = prompt_media(ANSWER)
    assert caller.last_play.media[-1] == spoken
    assert caller.last_play.texts == ((spoken, ANSWER),)
    caller.listen()
    assert caller.last_play.media == media("main", "after_info")
    caller.listen().press("0")
    assert caller.last_play.media == media("main", "connecting")
    caller.listen()
    assert caller.outcome == o.RouteToQueue(
        topic=topic,
        language="ru",
        priority=0,
        variables={
            "did": "88005550100",
            "caller": CALLER,
            "topic": topic,
            "choice_topic_menu": key,
            "choice_after_info": "0",
        },
    )


def test_staying_on_the_line_after_the_answers_reaches_an_operator() -> None:
    caller = at_topic_menu().press("4").answer(ANSWER).listen().listen().wait().listen()
    assert isinstance(caller.outcome, o.RouteToQueue)
    assert caller.outcome.topic == "health"


def test_the_answers_can_be_heard_again() -> None:
    caller = at_topic_menu().press("5").answer(ANSWER).listen().listen().press("1")
    assert caller.fetches[-1].topic == "housing" and len(caller.fetches) == 2


def test_a_key_during_the_answers_skips_them() -> None:
    caller = at_topic_menu().press("2").answer(ANSWER).press("#")
    assert caller.last_play.media == media("main", "after_info")


def test_knowledge_service_silent_says_there_is_no_answer() -> None:
    caller = at_topic_menu().press("1").wait()
    assert caller.last_play.media == media("main", "info_empty")
    assert caller.listen().last_play.media == media("main", "after_info")


def test_a_late_knowledge_answer_is_ignored() -> None:
    caller = at_topic_menu().press("1").wait()
    assert caller.session.on_information(ANSWER) == []


def test_barge_in_stops_the_menu_prompt() -> None:
    caller = Caller().listen()
    prompt = caller.playing
    caller.press("0")
    assert caller.outputs[-2:] == [
        o.StopPlayback(prompt or ""),
        o.Play(caller.last_play.playback_id, media("main", "connecting")),
    ]


def test_operator_directly_with_zero() -> None:
    caller = at_topic_menu().press("0").listen()
    assert caller.outcome == o.RouteToQueue(
        "general", "ru", 0, {**caller.session.variables, "topic": "general"}
    )


def test_invalid_keys_replay_the_menu_then_go_to_the_operator() -> None:
    caller = at_topic_menu().press("*")
    assert caller.last_play.media == media("main", "invalid_choice", "topic_menu")
    caller.press("#")
    assert caller.last_play.media == media("main", "invalid_choice", "topic_menu")
    caller.listen().press("*")
    assert caller.last_play.media == media("main", "connecting")
    caller.listen()
    assert isinstance(caller.outcome, o.RouteToQueue)


def test_silence_replays_the_menu_then_goes_to_the_operator() -> None:
    caller = at_topic_menu().wait()
    assert caller.last_play.media == media("main", "no_choice", "topic_menu")
    caller.listen().wait()
    assert caller.last_play.media == media("main", "no_choice", "topic_menu")
    caller.listen().wait()
    assert caller.last_play.media == media("main", "connecting")


def test_status_by_application_number() -> None:
    caller = at_topic_menu().press("6")
    assert caller.last_play.media == media("main", "status_number")
    caller.press("1234567#")
    assert caller.last_play.media == (*media("main", "status_number_read"), "digits:1234567")
    caller.listen().listen()
    assert isinstance(caller.outcome, o.RouteToQueue)
    assert caller.outcome.topic == "status"
    assert caller.outcome.variables["application_number"] == "1234567"


def test_status_number_ended_by_a_pause() -> None:
    caller = at_topic_menu().press("6").listen().press("123456").wait()
    assert caller.session.variables["application_number"] == "123456"


def test_status_number_too_short_is_asked_again_then_an_operator_helps() -> None:
    caller = at_topic_menu().press("6").press("12#")
    assert caller.last_play.media == media("main", "status_number_invalid", "status_number")
    caller.press("99#")
    assert caller.last_play.media == media("main", "status_number_invalid", "status_number")
    caller.listen().wait()
    assert caller.last_play.media == media("main", "connecting")
    assert "application_number" not in caller.session.variables


def test_complaint_recorded_as_a_voice_message() -> None:
    caller = at_topic_menu().press("7").press("1")
    assert caller.last_play.media == media("main", "complaint_record")
    caller.listen()
    name = caller.recordings[0].name
    assert caller.recordings == [o.StartRecording(name, 180, "#")]
    caller.recorded(42)
    assert caller.outcome == o.RecordedMessage(
        name, "complaint", 42, caller.session.variables, media("main", "complaint_recorded")
    )


def test_complaint_kept_when_the_caller_hangs_up_instead_of_pressing_hash() -> None:
    caller = at_topic_menu().press("7").press("1").listen().hang_up()
    assert not caller.session.finished and caller.outcomes == []
    caller.recorded(30)
    assert isinstance(caller.outcome, o.RecordedMessage) and caller.outcome.farewell == ()
    assert caller.session.finished


def test_empty_recording_is_not_a_complaint() -> None:
    caller = at_topic_menu().press("7").press("1").listen().recorded(0)
    assert isinstance(caller.outcome, o.Hangup) and caller.outcome.reason == "empty_message"


def test_complaint_to_an_operator_has_priority() -> None:
    caller = at_topic_menu().press("7").press("2")
    assert caller.outcome == o.RouteToQueue("complaints", "ru", 1, caller.session.variables)


def test_busgov_instructions_read_and_repeated() -> None:
    caller = at_topic_menu().press("9")
    assert caller.last_play.media == media("main", "busgov_instructions")
    caller.press("1")  # keys do not cut the instructions short
    assert caller.last_play.media == media("main", "busgov_instructions")
    caller.listen().press("1")
    assert caller.last_play.media == media("main", "busgov_instructions")
    caller.listen().listen().press("9")
    assert caller.last_play.media == media("main", "topic_menu")


def test_rating_an_answer_is_a_survey() -> None:
    caller = at_topic_menu().press("1").answer(ANSWER).listen().listen().press("2")
    assert caller.last_play.media == media("main", "rate_answer")
    caller.press("4")
    assert caller.outcome == o.Hangup(
        "completed", caller.session.variables, media("main", "goodbye")
    )
    assert caller.session.variables["survey_answer_helpful"] == "4"
