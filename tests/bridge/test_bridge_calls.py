"""The bridge's call controller: Asterisk events and router commands in, ARI actions out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge import menu_outcomes as mo
from ari_bridge.calls import CallController, Step
from ari_bridge.config import BridgeConfig, DidRoute
from ari_bridge.menus import Conditions, conditions
from ari_bridge.process import load_menus
from services.acd import commands as c
from services.acd import events as r
from services.acd.schedule import NightSchedule
from services.common.errors import StartupError
from services.ivr import outputs as o
from services.ivr.media import prompt_media
from services.ivr.schema import FlowLibrary, load_library, parse_flow
from services.ivr.streams import CALL_VARIABLES, IVR_OUTCOMES

CONFIG = BridgeConfig(
    centre="kuzbass", dids={"88005550101": DidRoute(topic="social", priority=1)}, menus=False
)
NOW = 1_780_000_000.0


def clock() -> float:
    return NOW


def arrive(controller: CallController, call_id: str = "c1", did: str = "88005550100") -> None:
    controller.on_event(
        d.CallArrived(call_id=call_id, did=did, caller_number="+79130000001", caller_name="")
    )


def connect(controller: CallController, call_id: str = "c1", seq: int = 3) -> str:
    step = controller.on_command(c.ConnectAgent(seq, call_id, "1001", 15.0, False, 0.0, 0.0, 3))
    (originate,) = step.actions
    assert isinstance(originate, a.OriginateOperator)
    return originate.leg_id


def test_an_arrival_is_answered_queued_with_music_and_told_to_the_router() -> None:
    controller = CallController(CONFIG)
    step = controller.on_event(
        d.CallArrived(call_id="c1", did="88005550101", caller_number="+7913", caller_name="")
    )
    assert step.actions == [
        a.Answer("c1"),
        a.EnsureHoldingBridge("okno-queue"),
        a.AddToBridge("okno-queue", ("c1",)),
        a.StartMusicOnHold("okno-queue"),
    ]
    assert step.router_events == [
        r.CallArrived("c1", "kuzbass", "social", "ru", 1, "88005550101", "+7913")
    ]
    second = controller.on_event(
        d.CallArrived(call_id="c2", did="88005550100", caller_number="+7914", caller_name="")
    )
    assert second.actions == [a.Answer("c2"), a.AddToBridge("okno-queue", ("c2",))]


def test_music_restarts_for_the_next_caller_after_the_queue_emptied() -> None:
    controller = CallController(CONFIG)
    arrive(controller, "c1")
    controller.on_event(d.CallerHungUp(call_id="c1", cause=16))
    step = controller.on_event(
        d.CallArrived(call_id="c2", did="88005550100", caller_number="+7914", caller_name="")
    )
    assert a.StartMusicOnHold("okno-queue") in step.actions


def test_an_answered_operator_is_bridged_with_the_caller() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    leg = connect(controller)
    step = controller.on_event(d.AgentAnswered(leg_id=leg, agent="1001", call_id="c1"))
    assert step.actions == [
        a.RemoveFromBridge("okno-queue", "c1"),
        a.CreateMixingBridge("call-c1"),
        a.AddToBridge("call-c1", ("c1", leg)),
    ]
    assert step.router_events == [r.AgentAnswered("c1", "1001")]


def test_the_originate_carries_endpoint_timeout_and_caller_id() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    step = controller.on_command(c.ConnectAgent(3, "c1", "1001", 14.2, False, 0.0, 0.0, 3))
    assert step.actions == [
        a.OriginateOperator(
            leg_id="c1-op3",
            agent="1001",
            call_id="c1",
            endpoint="PJSIP/op1001",
            app_args="agent,1001,c1",
            timeout_s=15,
            caller_id="+79130000001",
        )
    ]


def test_no_answer_goes_back_to_the_router_and_a_late_answer_is_hung_up() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    leg = connect(controller)
    step = controller.on_event(
        d.AgentNoAnswer(leg_id=leg, agent="1001", call_id="c1", reason="timeout", cause=19)
    )
    assert step.router_events == [r.AgentNoAnswer("c1", "1001")]
    late = controller.on_event(d.AgentAnswered(leg_id=leg, agent="1001", call_id="c1"))
    assert late.actions == [a.Hangup(leg)] and late.router_events == []


def test_operator_hang_up_ends_the_call_for_both() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    leg = connect(controller)
    controller.on_event(d.AgentAnswered(leg_id=leg, agent="1001", call_id="c1"))
    step = controller.on_event(
        d.AgentHungUp(leg_id=leg, agent="1001", call_id="c1", cause=16, by_bridge=False)
    )
    assert step.router_events == [r.CallEnded("c1")]
    assert step.actions == [a.Hangup("c1")]


def test_caller_hang_up_while_talking_releases_the_operator_and_the_bridge() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    leg = connect(controller)
    controller.on_event(d.AgentAnswered(leg_id=leg, agent="1001", call_id="c1"))
    step = controller.on_event(d.CallerHungUp(call_id="c1", cause=16))
    assert step.actions == [a.Hangup(leg), a.DestroyBridge("call-c1")]
    assert step.router_events == [r.CallerHungUp("c1")]


def test_router_stops_a_ringing_operator_when_the_caller_left() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    leg = connect(controller)
    assert controller.on_command(c.StopRinging(5, "c1", "1001")).actions == [a.Hangup(leg)]


def test_overflow_continues_to_the_neighbour_trunk_with_the_call_context() -> None:
    controller = CallController(CONFIG)
    arrive(controller, did="88005550101")
    step = controller.on_command(c.OverflowTo(4, "c1", "neighbour-west", "wait", 50.0, 10.0))
    (remove, hand_over) = step.actions
    assert remove == a.RemoveFromBridge("okno-queue", "c1")
    assert isinstance(hand_over, a.ContinueInDialplan)
    assert (hand_over.context, hand_over.extension) == ("to-neighbour-west", "88005550101")
    assert hand_over.variables["OKNO_TOPIC"] == "social"
    assert hand_over.variables["OKNO_FROM_CENTRE"] == "kuzbass"
    # The caller left Stasis: its end is not an abandonment the router must hear about.
    assert controller.on_event(d.CallLeftApplication(call_id="c1")).router_events == []


def test_callback_offer_accepted_with_1() -> None:
    controller = CallController(CONFIG, clock=clock)
    arrive(controller)
    offer = controller.on_command(c.OfferCallback(4, "c1", "deadline", 45.0))
    assert offer.actions == [a.Play("c1", "offer-4", ("sound:okno/callback-offer",))]
    step = controller.on_event(d.DtmfReceived(call_id="c1", digit="1", duration_ms=100))
    assert step.router_events == [
        r.CallbackRequested(
            "cb-c1", "general", "ru", "+79130000001", "c1", requested_at=NOW, source="queue"
        )
    ]
    (remove, play) = step.actions
    assert isinstance(play, a.Play)
    done = controller.on_event(
        d.PlaybackFinished(call_id="c1", playback_id=play.playback_id, media_uri="", outcome="done")
    )
    assert done.actions == [a.Hangup("c1")]


def test_callback_offer_declined_with_another_key() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    controller.on_command(c.OfferCallback(4, "c1", "deadline", 45.0))
    step = controller.on_event(d.DtmfReceived(call_id="c1", digit="2", duration_ms=100))
    assert step.router_events == [r.CallbackDeclined("c1")] and step.actions == []


def test_position_announcement_says_place_and_minutes() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    step = controller.on_command(c.Announce(2, "c1", "position", 3, 95.0))
    (play,) = step.actions
    assert isinstance(play, a.Play)
    assert "number:3" in play.media and "number:2" in play.media


def test_an_offline_softphone_pauses_its_operator() -> None:
    controller = CallController(CONFIG)
    step = controller.on_event(d.OperatorOffline(endpoint="PJSIP/op1007"))
    assert step.router_events == [r.AgentPaused("1007", reason="softphone_offline")]


def test_recovery_adopts_talking_and_queued_calls_without_actions() -> None:
    controller = CallController(CONFIG)
    talking = d.CallArrived(call_id="c1", did="88005550100", caller_number="+1", caller_name="")
    queued = d.CallArrived(call_id="c2", did="88005550100", caller_number="+2", caller_name="")
    bridges = {
        "c1": ("call-c1", "mixing"),
        "leg": ("call-c1", "mixing"),
        "c2": ("okno-queue", "holding"),
    }
    assert controller.recover(talking, bridges).actions == []
    adopted_leg = controller.recover(
        d.AgentAnswered(leg_id="leg", agent="1001", call_id="c1"), bridges
    )
    assert adopted_leg.actions == []
    queued_step = controller.recover(queued, bridges)
    assert queued_step.actions == [] and len(queued_step.router_events) == 1
    # The adopted operator's hang-up still ends the call.
    ended = controller.on_event(
        d.AgentHungUp(leg_id="leg", agent="1001", call_id="c1", cause=16, by_bridge=False)
    )
    assert ended.router_events == [r.CallEnded("c1")]


def test_end_call_says_goodbye_then_hangs_up() -> None:
    controller = CallController(CONFIG)
    arrive(controller)
    step = controller.on_command(c.EndCall(6, "c1", "no_agents"))
    (remove, play) = step.actions
    assert remove == a.RemoveFromBridge("okno-queue", "c1")
    assert isinstance(play, a.Play) and play.media == ("sound:okno/closing",)
    done = controller.on_event(
        d.PlaybackFinished(call_id="c1", playback_id=play.playback_id, media_uri="", outcome="done")
    )
    assert done.actions == [a.Hangup("c1")]


# --- voice menus --------------------------------------------------------------------------

FLOWS_DIR = Path(__file__).resolve().parents[2] / "ivr_scripts"
FLOWS = load_library(FLOWS_DIR)
MENU_CONFIG = CONFIG.model_copy(update={"menus": True, "timer_scale": 0.5})
NOON = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Novokuznetsk"))
DAY = Conditions(now=NOON)
MAIN = FLOWS.flows["main"]


def prompt(flow: str, name: str) -> str:
    return prompt_media(FLOWS.flows[flow].prompts[name])


def menu_call(controller: CallController, at: Conditions = DAY, did: str = "88005550100") -> Step:
    return controller.on_event(
        d.CallArrived(call_id="c1", did=did, caller_number="+79130000001", caller_name=""),
        at,
    )


def played(step: Step) -> a.Play:
    plays = [x for x in step.actions if isinstance(x, a.Play)]
    assert plays, step
    return plays[-1]


def finish(controller: CallController, step: Step) -> Step:
    """The last prompt of ``step`` plays to its end."""
    play = played(step)
    return controller.on_event(
        d.PlaybackFinished(call_id="c1", playback_id=play.playback_id, media_uri="", outcome="done")
    )


def press(controller: CallController, digit: str) -> Step:
    return controller.on_event(d.DtmfReceived(call_id="c1", digit=digit, duration_ms=100))


def test_with_menus_an_arrival_is_answered_and_greeted_not_queued() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    step = menu_call(controller)
    assert step.actions == [a.Answer("c1"), a.Play("c1", "c1-pb1", (prompt("main", "greeting"),))]
    assert step.router_events == [] and step.effects == []


def test_a_topic_key_self_service_then_zero_queues_with_that_topic() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    menu = finish(controller, menu_call(controller))
    assert played(menu).media == (prompt("main", "topic_menu"),)
    fetch = press(controller, "1")
    assert a.StopPlayback(played(menu).playback_id) in fetch.actions
    assert a.FetchInformation("c1", "mfc", None, 3) in fetch.effects
    timer = next(x for x in fetch.effects if isinstance(x, a.StartTimer))
    assert timer.seconds == pytest.approx(FLOWS.flows["main"].nodes["info_mfc"].wait * 0.5)
    empty = controller.on_information("c1", "")
    assert a.CancelTimer(timer.timer_id) in empty.effects
    assert played(empty).media == (prompt("main", "info_empty"),)
    after = finish(controller, empty)
    assert played(after).media == (prompt("main", "after_info"),)
    connecting = press(controller, "0")
    assert played(connecting).media == (prompt("main", "connecting"),)
    queued = finish(controller, connecting)
    assert queued.actions == [
        a.EnsureHoldingBridge("okno-queue"),
        a.AddToBridge("okno-queue", ("c1",)),
        a.StartMusicOnHold("okno-queue"),
    ]
    assert queued.router_events == [
        r.CallArrived("c1", "kuzbass", "mfc", "ru", 0, "88005550100", "+79130000001")
    ]
    (note,) = queued.notes
    assert note.stream == CALL_VARIABLES and note.fields["call_id"] == "c1"
    assert json.loads(note.fields["variables"])["topic"] == "mfc"


def test_knowledge_answers_are_read_only_when_they_can_be_spoken() -> None:
    for speaks in (True, False):
        controller = CallController(MENU_CONFIG, FLOWS, speaks_texts=speaks)
        finish(controller, menu_call(controller))
        press(controller, "1")
        step = controller.on_information("c1", "Как записаться? Через портал.")
        answer = prompt_media("Как записаться? Через портал.")
        media = played(step).media
        assert media[0] == prompt("main", "info_intro_mfc")
        assert (answer in media) is speaks
        assert (played(step).texts != ()) is speaks


def test_invalid_keys_then_the_menu_default_queues_a_general_call() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    finish(controller, menu_call(controller))
    retry = press(controller, "*")
    assert played(retry).media == (prompt("main", "invalid_choice"), prompt("main", "topic_menu"))
    press(controller, "#")
    connecting = press(controller, "*")
    assert played(connecting).media == (prompt("main", "connecting"),)
    queued = finish(controller, connecting)
    assert [e.topic for e in queued.router_events if isinstance(e, r.CallArrived)] == ["general"]


def test_silence_runs_out_on_the_service_timer() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    waiting = finish(controller, finish(controller, menu_call(controller)))
    (timer,) = waiting.effects
    assert isinstance(timer, a.StartTimer) and timer.call_id == "c1"
    step = controller.on_timer("c1", timer.timer_id)
    assert played(step).media == (prompt("main", "no_choice"), prompt("main", "topic_menu"))
    assert controller.on_timer("c1", timer.timer_id).actions == []  # already fired


def test_a_caller_hanging_up_in_the_menu_is_never_told_to_the_router() -> None:
    controller = CallController(MENU_CONFIG, FLOWS, clock=clock)
    waiting = finish(controller, finish(controller, menu_call(controller)))
    (timer,) = waiting.effects
    assert isinstance(timer, a.StartTimer)
    step = controller.on_event(d.CallerHungUp(call_id="c1", cause=16))
    assert step.router_events == [] and step.actions == []
    assert step.effects == [a.CancelTimer(timer.timer_id)]
    assert controller.live_calls == frozenset()
    # ... but its one menu entry says so, for the call record.
    (note,) = step.notes
    assert note.stream == CALL_VARIABLES and note.fields["outcome"] == "hangup"
    assert note.fields["did"] == "88005550100" and note.fields["caller"] == "+79130000001"
    assert float(note.fields["ended_at"]) == NOW


def test_night_mode_starts_the_night_flow() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    step = menu_call(controller, Conditions(now=NOON, night=True))
    assert played(step).media == (prompt("night", "night_hello"),)


def test_an_emergency_announcement_comes_first() -> None:
    at = Conditions(now=NOON, emergency=True, announcement="Паводок. Офисы МФЦ закрыты.")
    spoken = menu_call(CallController(MENU_CONFIG, FLOWS, speaks_texts=True), at)
    assert played(spoken).media == (
        prompt("main", "emergency_intro"),
        prompt_media("Паводок. Офисы МФЦ закрыты."),
    )
    silent = menu_call(CallController(MENU_CONFIG, FLOWS), at)
    assert played(silent).media == (prompt("main", "emergency_intro"),)


def test_a_recorded_complaint_is_noted_thanked_and_hung_up() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    finish(controller, menu_call(controller))
    press(controller, "7")
    invite = press(controller, "1")
    record = finish(controller, invite)
    (start,) = [x for x in record.actions if isinstance(x, a.Record)]
    assert start == a.Record("c1", start.name, 180, "#", True)
    done = controller.on_event(
        d.RecordingFinished(call_id="c1", name=start.name, outcome="done", duration_s=42)
    )
    # Copied out of Asterisk first; the service then notes it with the file's name.
    (save,) = [x for x in done.effects if isinstance(x, a.SaveRecording)]
    assert save.name == start.name and save.stream == IVR_OUTCOMES
    assert save.fields["kind"] == "complaint" and save.fields["duration"] == "42"
    assert save.fields["recording"] == start.name and save.fields["topic"] == "complaints"
    (variables,) = done.notes
    assert variables.stream == CALL_VARIABLES and variables.fields["outcome"] == "recorded"
    assert played(done).media == (prompt("main", "complaint_recorded"),)
    assert finish(controller, done).actions == [a.Hangup("c1")]
    assert done.router_events == []


def test_hanging_up_while_recording_still_delivers_the_message() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    finish(controller, menu_call(controller))
    press(controller, "7")
    finish(controller, press(controller, "1"))
    step = controller.on_event(d.CallerHungUp(call_id="c1", cause=16))
    (save,) = [x for x in step.effects if isinstance(x, a.SaveRecording)]
    assert save.fields["duration"] == "" and step.actions == [] and step.router_events == []
    (variables,) = step.notes  # one entry: recorded, not also "hangup"
    assert variables.fields["outcome"] == "recorded"


def test_a_callback_request_goes_to_the_router_then_goodbye() -> None:
    controller = CallController(MENU_CONFIG, FLOWS, clock=clock)
    finish(controller, menu_call(controller, did="88005550199"))
    step = press(controller, "1")
    assert step.router_events == [
        r.CallbackRequested(
            "cb-c1",
            "general",
            "ru",
            "79130000001",
            "c1",
            requested_at=NOW,
            source="callback_line",
        )
    ]
    (note,) = step.notes
    assert note.stream == CALL_VARIABLES and note.fields["outcome"] == "callback"
    assert played(step).media == (prompt("callback", "registered"),)
    assert finish(controller, step).actions == [a.Hangup("c1")]


def test_a_transfer_says_goodbye_then_continues_to_the_agency() -> None:
    flow = parse_flow(
        {
            "start": "out",
            "nodes": {"out": {"kind": "transfer", "number": "3843123456", "say": ["bye"]}},
            "prompts": {"bye": "Соединяю с ведомством."},
        },
        "test.yaml",
        "main",
    )
    controller = CallController(MENU_CONFIG, FlowLibrary(flows={"main": flow}))
    step = menu_call(controller)
    assert played(step).media == (prompt_media("Соединяю с ведомством."),)
    (moved,) = finish(controller, step).actions
    assert isinstance(moved, a.ContinueInDialplan)
    assert (moved.context, moved.extension) == ("to-agency", "3843123456")


def test_modes_and_the_schedule_decide_night_and_emergency() -> None:
    schedule = NightSchedule(timezone="Asia/Novokuznetsk")
    three_am = datetime(2026, 6, 1, 3, 0, tzinfo=ZoneInfo("Asia/Novokuznetsk")).astimezone(UTC)
    assert conditions({}, three_am, schedule).night
    assert not conditions({"night_override": "day"}, three_am, schedule).night
    assert conditions({"night_override": "night"}, NOON, schedule).night
    at = conditions({"emergency": "1", "announcement": "Паводок"}, NOON, schedule)
    assert at.emergency and at.announcement == "Паводок"
    assert (
        conditions({"emergency": "0", "announcement": "старое"}, NOON, schedule).announcement == ""
    )
    assert conditions({}, three_am, schedule).now.hour == 3


def test_a_folder_of_flows_that_cannot_run_stops_the_bridge_at_start(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("start: a\nnodes: {a: {kind: hangup}}\n")
    with pytest.raises(StartupError, match="no main.yaml"):
        load_menus(BridgeConfig(ivr_folder=tmp_path))
    assert load_menus(BridgeConfig(ivr_folder=tmp_path, menus=False)) is None
    assert load_menus(BridgeConfig(ivr_folder=FLOWS_DIR)) is not None


def test_a_complaint_status_look_up_becomes_a_service_effect_and_its_answer_is_spoken() -> None:
    controller = CallController(MENU_CONFIG, FLOWS)
    finish(controller, menu_call(controller))
    press(controller, "7")
    press(controller, "3")
    step = Step()
    for digit in "123456789":
        step = press(controller, digit)
    (look_up,) = [x for x in step.effects if isinstance(x, a.FetchStatus)]
    assert look_up == a.FetchStatus("c1", "123456789", "0001")
    answered = controller.on_status("c1", "unavailable")
    assert played(answered).media[0] == prompt("main", "complaint_status_unavailable")
    assert controller.on_status("c1", "found", "late").actions == []  # answered once


def test_a_night_callback_request_is_due_from_the_opening() -> None:
    controller = CallController(MENU_CONFIG, FLOWS, clock=clock)
    step = menu_call(controller, Conditions(now=NOON, night=True))
    step = finish(controller, step)  # night_hello → night_menu
    step = press(controller, "2")  # a callback in the morning
    (request,) = [e for e in step.router_events if isinstance(e, r.CallbackRequested)]
    assert request.source == "night" and request.requested_at == NOW
    assert request.caller == "79130000001" and request.call_id == "c1"


@pytest.mark.parametrize(
    ("outcome", "kind", "reason"),
    [
        (o.RouteToQueue("mfc", "ru", 0), "queue", ""),
        (o.RequestCallback("7913"), "callback", ""),
        (o.Transfer("3843"), "transfer", ""),
        (o.RecordedMessage("c1-rec1"), "recorded", ""),
        (o.Hangup("survey_done"), "self_service", "survey_done"),
    ],
)
def test_each_menu_end_is_one_variables_entry(outcome: o.Outcome, kind: str, reason: str) -> None:
    facts = mo.CallFacts("88005550100", "+7913", "ru", NOW - 30, night=False)
    end = mo.menu_ended("c1", outcome, facts, MENU_CONFIG, now=NOW)
    (note,) = [n for n in end.notes if n.stream == CALL_VARIABLES]
    assert (note.fields["outcome"], note.fields["reason"]) == (kind, reason)
    assert float(note.fields["ended_at"]) - float(note.fields["started_at"]) == 30
    assert (end.closing is None) == (kind == "queue")
    gone = mo.menu_ended("c1", outcome, None, MENU_CONFIG, now=NOW)  # the caller already left
    assert [n.stream for n in gone.notes if n.stream == CALL_VARIABLES] == []
