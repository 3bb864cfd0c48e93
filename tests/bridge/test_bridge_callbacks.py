"""Dialling callbacks and blind transfers in the call controller, and the citizen leg's endings
in the translator: Asterisk events and router commands in, ARI actions and router events out."""

from __future__ import annotations

from typing import Any

import pytest

from ari_bridge import actions as a
from ari_bridge import events as d
from ari_bridge.calls import CallController, Step
from ari_bridge.config import BridgeConfig
from ari_bridge.translate import Translator
from services.acd import commands as c
from services.acd import events as r

CONFIG = BridgeConfig(centre="kuzbass", menus=False, callback_caller_id="88005550199")
CITIZEN = "+79130000001"
OP_LEG = "cb-7-op3"
CITIZEN_LEG = "cb-7-op3-citizen"
BRIDGE = "callback-cb-7"


def dial(controller: CallController, seq: int = 3) -> Step:
    return controller.on_command(c.DialCallback(seq, "cb-7", "1001", CITIZEN, 12.0, 1, "mfc", 14.5))


def operator_answers(controller: CallController) -> Step:
    dial(controller)
    return controller.on_event(d.AgentAnswered(leg_id=OP_LEG, agent="1001", call_id="cb-7"))


def citizen_answers(controller: CallController) -> Step:
    operator_answers(controller)
    return controller.on_event(d.CitizenAnswered(leg_id=CITIZEN_LEG, callback_id="cb-7"))


def talking(controller: CallController) -> Step:
    answered = citizen_answers(controller)
    (timer,) = answered.effects
    assert isinstance(timer, a.StartTimer)
    return controller.on_timer(timer.call_id, timer.timer_id)


def test_the_operator_seat_rings_first_showing_the_citizen_number() -> None:
    controller = CallController(CONFIG)
    step = dial(controller)
    assert step.actions == [
        a.OriginateOperator(
            leg_id=OP_LEG,
            agent="1001",
            call_id="cb-7",
            endpoint="PJSIP/op1001",
            app_args=f"agent,1001,cb-7,callback,{CITIZEN}",
            timeout_s=15,
            caller_id=CITIZEN,
        )
    ]
    assert step.router_events == []
    # The same callback again (a redelivered command, or another seq): not dialled twice.
    assert dial(controller).actions == [] and dial(controller, seq=9).actions == []


def test_when_the_operator_answers_the_citizen_is_called_through_the_trunk() -> None:
    step = operator_answers(CallController(CONFIG))
    assert step.router_events == [r.AgentAnswered("cb-7", "1001")]
    assert step.actions == [
        a.CreateMixingBridge(BRIDGE),
        a.AddToBridge(BRIDGE, (OP_LEG,)),
        a.OriginateCitizen(
            leg_id=CITIZEN_LEG,
            callback_id="cb-7",
            endpoint=f"PJSIP/{CITIZEN}@provider",
            app_args="citizen,cb-7",
            timeout_s=30,
            caller_id="88005550199",
        ),
    ]


def test_an_operator_who_does_not_answer_sends_the_callback_back() -> None:
    controller = CallController(CONFIG)
    dial(controller)
    step = controller.on_event(
        d.AgentNoAnswer(leg_id=OP_LEG, agent="1001", call_id="cb-7", reason="timeout", cause=19)
    )
    assert step.router_events == [r.AgentNoAnswer("cb-7", "1001")] and step.actions == []
    # The next attempt is a new command for the same callback: dialled again.
    assert dial(controller, seq=8).actions != []


def test_an_answered_citizen_joins_and_counts_as_answered_once_settled() -> None:
    controller = CallController(CONFIG)
    step = citizen_answers(controller)
    assert step.actions == [a.AddToBridge(BRIDGE, (CITIZEN_LEG,))]
    assert step.router_events == []
    (timer,) = step.effects
    assert timer == a.StartTimer("cb-7", "cb-7-settle", 3.0)
    settled = controller.on_timer("cb-7", "cb-7-settle")
    assert settled.router_events == [r.CallbackResult("cb-7", "1001", "answered")]
    assert controller.on_timer("cb-7", "cb-7-settle").router_events == []  # once


@pytest.mark.parametrize("who", ["citizen", "operator"])
def test_the_conversation_ends_for_both_when_either_hangs_up(who: str) -> None:
    controller = CallController(CONFIG)
    talking(controller)
    if who == "citizen":
        gone: d.DomainEvent = d.CitizenHungUp(
            leg_id=CITIZEN_LEG, callback_id="cb-7", cause=16, by_bridge=False
        )
        other = OP_LEG
    else:
        gone = d.AgentHungUp(leg_id=OP_LEG, agent="1001", call_id="cb-7", by_bridge=False)
        other = CITIZEN_LEG
    step = controller.on_event(gone)
    assert step.router_events == [r.CallEnded("cb-7")]
    assert step.actions == [a.Hangup(other), a.DestroyBridge(BRIDGE)]
    # The other leg's ending, caused by the bridge, tells nobody anything.
    if who == "citizen":
        echo: d.DomainEvent = d.AgentHungUp(
            leg_id=OP_LEG, agent="1001", call_id="cb-7", by_bridge=True
        )
    else:
        echo = d.CitizenHungUp(leg_id=CITIZEN_LEG, callback_id="cb-7", by_bridge=True)
    assert controller.on_event(echo) == Step()


def test_a_citizen_gone_within_the_settle_time_is_hung_up_not_answered() -> None:
    controller = CallController(CONFIG)
    citizen_answers(controller)
    step = controller.on_event(
        d.CitizenHungUp(leg_id=CITIZEN_LEG, callback_id="cb-7", cause=16, by_bridge=False)
    )
    assert step.router_events == [r.CallbackResult("cb-7", "1001", "hung_up")]
    assert step.effects == [a.CancelTimer("cb-7-settle")]
    assert step.actions == [a.Hangup(OP_LEG), a.DestroyBridge(BRIDGE)]


@pytest.mark.parametrize(
    ("reason", "result"),
    [("busy", "busy"), ("no_answer", "no_answer"), ("failed", "failed"), ("cancelled", "failed")],
)
def test_an_unreached_citizen_is_reported_and_the_operator_released(
    reason: Any, result: str
) -> None:
    controller = CallController(CONFIG)
    operator_answers(controller)
    step = controller.on_event(
        d.CitizenUnreached(leg_id=CITIZEN_LEG, callback_id="cb-7", reason=reason, cause=17)
    )
    assert step.router_events == [r.CallbackResult("cb-7", "1001", result)]
    assert step.actions == [a.Hangup(OP_LEG), a.DestroyBridge(BRIDGE)]


def test_an_operator_giving_up_before_the_citizen_answers_cancels_the_citizen_leg() -> None:
    controller = CallController(CONFIG)
    operator_answers(controller)
    step = controller.on_event(
        d.AgentHungUp(leg_id=OP_LEG, agent="1001", call_id="cb-7", by_bridge=False)
    )
    assert step.router_events == [r.CallbackResult("cb-7", "1001", "no_answer")]
    assert step.actions == [a.Hangup(CITIZEN_LEG), a.DestroyBridge(BRIDGE)]
    cancelled = d.CitizenUnreached(leg_id=CITIZEN_LEG, callback_id="cb-7", reason="cancelled")
    assert controller.on_event(cancelled).router_events == []
    late = controller.on_event(d.CitizenAnswered(leg_id=CITIZEN_LEG, callback_id="cb-7"))
    assert late.actions == [a.Hangup(CITIZEN_LEG)]


def test_settle_zero_reports_answered_at_once() -> None:
    controller = CallController(CONFIG.model_copy(update={"callback_settle_s": 0.0}))
    step = citizen_answers(controller)
    assert step.router_events == [r.CallbackResult("cb-7", "1001", "answered")]
    assert step.effects == []


# --- a restarted bridge -------------------------------------------------------------------


def test_an_operator_answering_a_leg_rung_before_a_restart_still_gets_the_citizen() -> None:
    controller = CallController(CONFIG)  # knows nothing of the callback
    step = controller.on_event(
        d.AgentAnswered(leg_id=OP_LEG, agent="1001", call_id="cb-7", callback_to=CITIZEN)
    )
    assert step.router_events == [r.AgentAnswered("cb-7", "1001")]
    (originate,) = [x for x in step.actions if isinstance(x, a.OriginateCitizen)]
    assert originate.leg_id == CITIZEN_LEG and originate.endpoint == f"PJSIP/{CITIZEN}@provider"


def test_recovery_adopts_a_talking_callback_without_dialling_again() -> None:
    controller = CallController(CONFIG)
    bridges = {OP_LEG: (BRIDGE, "mixing"), CITIZEN_LEG: (BRIDGE, "mixing")}
    operator = d.AgentAnswered(leg_id=OP_LEG, agent="1001", call_id="cb-7", callback_to=CITIZEN)
    adopted = controller.recover(operator, bridges)
    assert adopted.actions == []
    # Told again in case the router missed them (it ignores what it already has).
    assert adopted.router_events == [
        r.AgentAnswered("cb-7", "1001"),
        r.CallbackResult("cb-7", "1001", "answered"),
    ]
    citizen = d.CitizenAnswered(leg_id=CITIZEN_LEG, callback_id="cb-7")
    assert controller.recover(citizen, bridges) == Step()
    ended = controller.on_event(
        d.CitizenHungUp(leg_id=CITIZEN_LEG, callback_id="cb-7", cause=16, by_bridge=False)
    )
    assert ended.router_events == [r.CallEnded("cb-7")]
    assert ended.actions == [a.Hangup(OP_LEG), a.DestroyBridge(BRIDGE)]


def test_recovery_of_an_operator_waiting_for_the_citizen_originates_the_same_leg() -> None:
    controller = CallController(CONFIG)
    operator = d.AgentAnswered(leg_id=OP_LEG, agent="1001", call_id="cb-7", callback_to=CITIZEN)
    step = controller.recover(operator, {OP_LEG: (BRIDGE, "mixing")})
    # Same leg id: if it still rings, Asterisk refuses the second originate (409).
    assert [type(x) for x in step.actions] == [a.OriginateCitizen]
    assert step.router_events == [r.AgentAnswered("cb-7", "1001")]
    answered = controller.on_event(d.CitizenAnswered(leg_id=CITIZEN_LEG, callback_id="cb-7"))
    assert answered.actions == [a.AddToBridge(BRIDGE, (CITIZEN_LEG,))]


def test_recovery_hangs_up_a_citizen_leg_of_no_known_callback() -> None:
    controller = CallController(CONFIG)
    step = controller.recover(d.CitizenAnswered(leg_id="x-citizen", callback_id="cb-9"), {})
    assert step.actions == [a.Hangup("x-citizen")]


# --- blind transfer -----------------------------------------------------------------------


def connected_call(controller: CallController) -> str:
    controller.on_event(
        d.CallArrived(call_id="c1", did="88005550100", caller_number=CITIZEN, caller_name="")
    )
    step = controller.on_command(c.ConnectAgent(3, "c1", "1001", 15.0, False, 0.0, 0.0, 3))
    (originate,) = step.actions
    assert isinstance(originate, a.OriginateOperator)
    controller.on_event(d.AgentAnswered(leg_id=originate.leg_id, agent="1001", call_id="c1"))
    return originate.leg_id


def test_a_transfer_continues_the_caller_to_the_agency_and_releases_the_operator() -> None:
    controller = CallController(CONFIG)
    leg = connected_call(controller)
    step = controller.on_command(c.TransferCall(9, "c1", "3843123456"))
    assert step.actions == [
        a.ContinueInDialplan(
            channel_id="c1",
            context="to-agency",
            extension="3843123456",
            variables={
                "OKNO_TOPIC": "general",
                "OKNO_CALLER": CITIZEN,
                "OKNO_FROM_CENTRE": "kuzbass",
            },
        ),
        a.Hangup(leg),
    ]
    # The router already finished the call as transferred: its endings say nothing more.
    left = controller.on_event(d.CallLeftApplication(call_id="c1"))
    assert left.router_events == []
    released = controller.on_event(
        d.AgentHungUp(leg_id=leg, agent="1001", call_id="c1", by_bridge=True)
    )
    assert released.router_events == []
    assert controller.on_command(c.TransferCall(10, "c1", "3843123456")).actions == []


def test_only_a_connected_call_is_transferred() -> None:
    controller = CallController(CONFIG)
    controller.on_event(
        d.CallArrived(call_id="c1", did="88005550100", caller_number=CITIZEN, caller_name="")
    )
    assert controller.on_command(c.TransferCall(9, "c1", "3843123456")) == Step()
    assert controller.on_command(c.TransferCall(9, "nobody", "3843123456")) == Step()


# --- the translator: how the citizen's leg ended ---------------------------------------------


def _originated(translator: Translator) -> None:
    translator.expect_citizen_leg(CITIZEN_LEG, callback_id="cb-7")


def _destroyed(cause: int, cause_txt: str = "") -> dict[str, Any]:
    return {
        "type": "ChannelDestroyed",
        "timestamp": "2026-11-30T11:00:00.000+0000",
        "cause": cause,
        "cause_txt": cause_txt,
        "channel": {"id": CITIZEN_LEG, "state": "Ringing"},
    }


@pytest.mark.parametrize(
    ("cause", "reason"),
    [(17, "busy"), (19, "no_answer"), (18, "no_answer"), (34, "failed"), (16, "failed")],
)
def test_a_citizen_leg_ending_unanswered_reads_its_cause(cause: int, reason: str) -> None:
    translator = Translator()
    _originated(translator)
    (event,) = translator.feed_ari(_destroyed(cause))
    assert isinstance(event, d.CitizenUnreached)
    assert (event.reason, event.cause, event.callback_id) == (reason, cause, "cb-7")
    assert translator.feed_ari(_destroyed(cause)) == []  # exactly once


def test_the_last_dial_status_decides_when_the_cause_does_not() -> None:
    translator = Translator()
    _originated(translator)
    dial = {"type": "Dial", "dialstatus": "BUSY", "peer": {"id": CITIZEN_LEG}}
    assert translator.feed_ari(dial) == []
    (event,) = translator.feed_ari(_destroyed(16))
    assert isinstance(event, d.CitizenUnreached) and event.reason == "busy"


def test_a_citizen_leg_the_bridge_cancelled_is_cancelled() -> None:
    translator = Translator()
    _originated(translator)
    request = {
        "type": "ChannelHangupRequest",
        "cause": 32,
        "soft": True,
        "channel": {"id": CITIZEN_LEG},
    }
    translator.feed_ari(request)
    (event,) = translator.feed_ari(_destroyed(16))
    assert isinstance(event, d.CitizenUnreached) and event.reason == "cancelled"


def test_an_answered_citizen_enters_with_its_callback_and_hangs_up_once() -> None:
    translator = Translator()
    _originated(translator)
    start = {
        "type": "StasisStart",
        "args": ["citizen", "cb-7"],
        "channel": {"id": CITIZEN_LEG, "state": "Up"},
    }
    assert translator.feed_ari(start) == [d.CitizenAnswered(leg_id=CITIZEN_LEG, callback_id="cb-7")]
    translator.feed_ari(
        {"type": "ChannelHangupRequest", "cause": 16, "channel": {"id": CITIZEN_LEG}}
    )
    (ended,) = translator.feed_ari({"type": "StasisEnd", "channel": {"id": CITIZEN_LEG}})
    assert ended == d.CitizenHungUp(
        leg_id=CITIZEN_LEG, callback_id="cb-7", cause=16, by_bridge=False
    )


def test_a_callback_operator_leg_names_its_citizen_for_a_restarted_bridge() -> None:
    translator = Translator()  # a fresh process: the leg was not originated by it
    start = {
        "type": "StasisStart",
        "args": ["agent", "1001", "cb-7", "callback", CITIZEN],
        "channel": {"id": OP_LEG, "state": "Up"},
    }
    (event,) = translator.feed_ari(start)
    assert event == d.AgentAnswered(
        leg_id=OP_LEG, agent="1001", call_id="cb-7", callback_to=CITIZEN
    )


def test_a_refused_originate_ends_its_leg_at_once() -> None:
    translator = Translator()
    _originated(translator)
    (event,) = translator.leg_refused(CITIZEN_LEG)
    assert isinstance(event, d.CitizenUnreached) and event.reason == "failed"
    translator.expect_agent_leg("c1-op2", agent="1001", call_id="c1")
    (missed,) = translator.leg_refused("c1-op2")
    assert isinstance(missed, d.AgentNoAnswer) and missed.reason == "failed"
    assert translator.leg_refused("c1-op2") == []


def test_a_cancelled_callback_stops_ringing_the_seat_silently() -> None:
    controller = CallController(CONFIG)
    dial(controller)
    step = controller.on_command(c.StopRinging(5, "cb-7", "1001"))
    assert step.actions == [a.Hangup(OP_LEG)] and step.router_events == []
    ended = d.AgentNoAnswer(leg_id=OP_LEG, agent="1001", call_id="cb-7", reason="cancelled")
    assert controller.on_event(ended) == Step()


def test_a_callback_cancelled_while_the_citizen_rings_releases_both_legs() -> None:
    controller = CallController(CONFIG)
    operator_answers(controller)
    step = controller.on_command(c.StopRinging(5, "cb-7", "1001"))
    assert step.actions == [a.Hangup(OP_LEG), a.Hangup(CITIZEN_LEG), a.DestroyBridge(BRIDGE)]
    assert step.router_events == []
    for echo in (
        d.AgentHungUp(leg_id=OP_LEG, agent="1001", call_id="cb-7", by_bridge=True),
        d.CitizenUnreached(leg_id=CITIZEN_LEG, callback_id="cb-7", reason="cancelled"),
    ):
        assert controller.on_event(echo) == Step()


def test_a_callback_cancelled_while_the_answer_settles_ends_the_conversation() -> None:
    """The router still counts the callback as dialling during the settle wait and frees the
    operator on a cancel: the bridge must not leave the two talking."""
    controller = CallController(CONFIG)
    citizen_answers(controller)
    step = controller.on_command(c.StopRinging(6, "cb-7", "1001"))
    assert step.effects == [a.CancelTimer("cb-7-settle")]
    assert step.actions == [a.Hangup(OP_LEG), a.Hangup(CITIZEN_LEG), a.DestroyBridge(BRIDGE)]
    assert step.router_events == []
    assert controller.on_timer("cb-7", "cb-7-settle").router_events == []  # no late "answered"
