"""The bridge's call controller: Asterisk events and router commands in, ARI actions out."""

from __future__ import annotations

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge.calls import CallController
from ari_bridge.config import BridgeConfig, DidRoute
from services.acd import commands as c
from services.acd import events as r

CONFIG = BridgeConfig(centre="kuzbass", dids={"88005550101": DidRoute(topic="social", priority=1)})


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
    controller = CallController(CONFIG)
    arrive(controller)
    offer = controller.on_command(c.OfferCallback(4, "c1", "deadline", 45.0))
    assert offer.actions == [a.Play("c1", "offer-4", ("sound:okno/callback-offer",))]
    step = controller.on_event(d.DtmfReceived(call_id="c1", digit="1", duration_ms=100))
    assert step.router_events == [
        r.CallbackRequested("cb-c1", "general", "ru", "+79130000001", "c1")
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
