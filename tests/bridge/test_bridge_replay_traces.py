"""The recorded traces, replayed into the translator, give the expected domain events.

Expectations are written by hand from traces/MANIFEST.md, not generated from the code.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from bridge_traces import FLOWS, ami_messages, ari_events, rest_response

from ari_bridge.events import DomainEvent
from ari_bridge.translate import Translator


def replay(translator: Translator, name: str) -> list[DomainEvent]:
    return [event for message in ari_events(name) for event in translator.feed_ari(message)]


def plain(events: list[DomainEvent]) -> list[dict[str, Any]]:
    """Events without version and timestamp, for readable expectations."""
    return [event.model_dump(exclude={"v", "at"}, exclude_none=True) for event in events]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-11-30T{text}+00:00")


def arrived(call_id: str, did: str, number: str, name: str, created: str) -> dict[str, Any]:
    return {
        "type": "call_arrived",
        "call_id": call_id,
        "did": did,
        "caller_number": number,
        "caller_name": name,
        "arrived_at": ts(created),
    }


def test_inbound_bridge_agent_phone_hangs_up_then_engine_releases_caller() -> None:
    translator = Translator()
    translator.expect_agent_leg("1796037868.2", agent="1001", call_id="1796037868.1")
    events = replay(translator, "inbound_bridge")
    assert plain(events) == [
        arrived("1796037868.1", "101", "5551001", "Customer", "11:24:28.252"),
        {
            "type": "agent_answered",
            "leg_id": "1796037868.2",
            "agent": "1001",
            "call_id": "1796037868.1",
        },
        {
            "type": "agent_hung_up",
            "leg_id": "1796037868.2",
            "agent": "1001",
            "call_id": "1796037868.1",
            "cause": 16,
            "by_bridge": False,
        },
        {"type": "call_released", "call_id": "1796037868.1"},
    ]
    assert [event.at for event in events] == [
        ts("11:24:28.753"),
        ts("11:24:28.763"),
        ts("11:24:31.272"),
        ts("11:24:31.776"),
    ]


def test_agent_leg_not_registered_is_still_recognised_by_its_stasis_args() -> None:
    events = plain(replay(Translator(), "inbound_bridge"))
    assert events[1] == {"type": "agent_answered", "leg_id": "1796037868.2", "agent": "1001"}
    assert events[2]["type"] == "agent_hung_up"


def test_caller_abandons_during_playback() -> None:
    assert plain(replay(Translator(), "caller_abandon_playback")) == [
        arrived("1796037874.5", "102", "5551002", "Impatient", "11:24:34.460"),
        {
            "type": "playback_finished",
            "call_id": "1796037874.5",
            "playback_id": "30cd0e30-8df0-4fe8-9e77-b7dea448afc1",
            "media_uri": "sound:demo-instruct",
            "outcome": "failed",
        },
        {"type": "caller_hung_up", "call_id": "1796037874.5", "cause": 16},
    ]


def test_dtmf_menu() -> None:
    call = "1796037881.7"
    events = plain(replay(Translator(), "dtmf_menu"))
    assert [e["type"] for e in events] == [
        "call_arrived",
        "dtmf_received",
        "playback_finished",
        "dtmf_received",
        "dtmf_received",
        "call_released",
    ]
    assert events[0]["did"] == "103"
    assert [(e["call_id"], e["digit"], e["duration_ms"]) for e in events if "digit" in e] == [
        (call, "1", 100),
        (call, "2", 100),
        (call, "#", 100),
    ]
    assert events[2]["outcome"] == "done"
    assert events[2]["media_uri"] == "sound:basic-pbx-ivr-main"


def test_holding_moh_then_agent_caller_hangs_up_first() -> None:
    translator = Translator()
    translator.expect_agent_leg("1796037889.12", agent="1002", call_id="1796037887.9")
    events = plain(replay(translator, "holding_moh_then_agent"))
    assert events[1:] == [
        {
            "type": "agent_answered",
            "leg_id": "1796037889.12",
            "agent": "1002",
            "call_id": "1796037887.9",
        },
        {"type": "caller_hung_up", "call_id": "1796037887.9", "cause": 16},
        {
            "type": "agent_hung_up",
            "leg_id": "1796037889.12",
            "agent": "1002",
            "call_id": "1796037887.9",
            "by_bridge": True,
        },
    ]
    assert events[0]["call_id"] == "1796037887.9"
    assert events[0]["did"] == "104"


def test_agent_no_answer_times_out_with_cause_19_then_second_agent_answers() -> None:
    translator = Translator()
    call = "1796037895.15"
    translator.expect_agent_leg("1796037896.18", agent="1001", call_id=call)
    translator.expect_agent_leg("1796037901.20", agent="1002", call_id=call)
    events = replay(translator, "agent_no_answer")
    assert plain(events)[1:] == [
        {"type": "agent_leg_ringing", "leg_id": "1796037896.18", "agent": "1001", "call_id": call},
        {
            "type": "agent_no_answer",
            "leg_id": "1796037896.18",
            "agent": "1001",
            "call_id": call,
            "reason": "timeout",
            "cause": 19,
        },
        {"type": "agent_answered", "leg_id": "1796037901.20", "agent": "1002", "call_id": call},
        {"type": "caller_hung_up", "call_id": call, "cause": 16},
        {
            "type": "agent_hung_up",
            "leg_id": "1796037901.20",
            "agent": "1002",
            "call_id": call,
            "by_bridge": True,
        },
    ]
    ringing, no_answer = events[1], events[2]
    assert no_answer.at is not None and ringing.at is not None
    assert (no_answer.at - ringing.at).total_seconds() == pytest.approx(5.0, abs=0.01)


def test_caller_hangs_up_while_agent_rings_and_bridge_cancels_the_leg() -> None:
    translator = Translator()
    call = "1796037906.23"
    translator.expect_agent_leg("1796037907.26", agent="1001", call_id=call)
    assert plain(replay(translator, "caller_hangup_while_agent_ringing")) == [
        arrived(call, "106", "5551006", "Hasty Caller", "11:25:06.652"),
        {"type": "agent_leg_ringing", "leg_id": "1796037907.26", "agent": "1001", "call_id": call},
        {"type": "caller_hung_up", "call_id": call, "cause": 16},
        {
            "type": "agent_no_answer",
            "leg_id": "1796037907.26",
            "agent": "1001",
            "call_id": call,
            "reason": "cancelled",
            "cause": 16,
        },
    ]


def test_blind_transfer_continue_leaves_the_application() -> None:
    assert plain(replay(Translator(), "blind_transfer_continue")) == [
        arrived("1796037911.29", "107", "5551007", "Transfer Caller", "11:25:11.633"),
        {"type": "call_left_application", "call_id": "1796037911.29"},
    ]


def test_record_voice_message() -> None:
    call = "1796037927.37"
    events = plain(replay(Translator(), "record_voice_message"))
    assert events[1:] == [
        {"type": "dtmf_received", "call_id": call, "digit": "#", "duration_ms": 100},
        {
            "type": "recording_finished",
            "call_id": call,
            "name": "msg-1",
            "outcome": "done",
            "duration_s": 1,
        },
        {"type": "call_released", "call_id": call},
    ]
    assert events[0]["did"] == "109"


def test_dtmf_during_hold_for_callback() -> None:
    call = "1796037939.39"
    events = plain(replay(Translator(), "dtmf_during_hold_for_callback"))
    assert events[1:] == [
        {"type": "dtmf_received", "call_id": call, "digit": "1", "duration_ms": 100},
        {
            "type": "playback_finished",
            "call_id": call,
            "playback_id": "74d4c8ff-b899-4707-a1ba-d2978d79344a",
            "media_uri": "sound:auth-thankyou",
            "outcome": "done",
        },
        {"type": "call_released", "call_id": call},
    ]
    assert events[0]["did"] == "111"


def test_sip_registration_over_ari() -> None:
    assert plain(replay(Translator(), "sip_registration_ami")) == [
        {"type": "operator_device_state", "endpoint": "PJSIP/op1001", "state": "not_in_use"},
        {"type": "operator_online", "endpoint": "PJSIP/op1001"},
        {"type": "operator_offline", "endpoint": "PJSIP/op1001"},
        {"type": "operator_device_state", "endpoint": "PJSIP/op1001", "state": "unavailable"},
    ]


def replay_ami(translator: Translator, name: str) -> list[DomainEvent]:
    return [event for message in ami_messages(name) for event in translator.feed_ami(message)]


def test_sip_registration_over_ami_includes_the_device_state_list() -> None:
    events = replay_ami(Translator(), "sip_registration_ami")
    assert plain(events) == [
        {"type": "operator_device_state", "endpoint": "PJSIP/op1001", "state": "not_in_use"},
        {"type": "operator_online", "endpoint": "PJSIP/op1001"},
        {"type": "operator_device_state", "endpoint": "PJSIP/op1002", "state": "unavailable"},
        {"type": "operator_device_state", "endpoint": "PJSIP/op1001", "state": "unavailable"},
        {"type": "operator_offline", "endpoint": "PJSIP/op1001"},
    ]
    assert events[0].at == datetime.fromtimestamp(1796037933.064543, tz=UTC)
    assert events[2].at is None


def test_ari_and_ami_together_report_each_change_once() -> None:
    """Both links deliver the same registration; merged by time, each change comes once."""
    stamped: list[tuple[datetime, int, str, Any]] = []
    for message in ari_events("sip_registration_ami"):
        stamped.append((datetime.fromisoformat(message["timestamp"]), len(stamped), "ari", message))
    last = stamped[0][0]
    for message in ami_messages("sip_registration_ami"):
        if "Timestamp" in message:
            last = datetime.fromtimestamp(float(message["Timestamp"]), tz=UTC)
        stamped.append((last, len(stamped), "ami", message))
    translator = Translator()
    events = []
    for _, _, link, message in sorted(stamped):
        feed = translator.feed_ari if link == "ari" else translator.feed_ami
        events += feed(message)
    assert sorted((e["type"], e["endpoint"], str(e.get("state", ""))) for e in plain(events)) == [
        ("operator_device_state", "PJSIP/op1001", "not_in_use"),
        ("operator_device_state", "PJSIP/op1001", "unavailable"),
        ("operator_device_state", "PJSIP/op1002", "unavailable"),
        ("operator_offline", "PJSIP/op1001", ""),
        ("operator_online", "PJSIP/op1001", ""),
    ]


@pytest.mark.parametrize("name", [flow for flow in FLOWS if flow != "sip_registration_ami"])
def test_ami_of_call_flows_reports_no_operator_change(name: str) -> None:
    """Local/..., Announcer/ and Queue: devices are not operators' phones."""
    assert replay_ami(Translator(), name) == []


def test_ws_reconnect_reconcile_neither_forgets_nor_duplicates() -> None:
    translator = Translator()
    first_ws, second_ws = ari_events("ws_reconnect")[:2], ari_events("ws_reconnect", "ari.ws2")
    assert plain([e for m in first_ws for e in translator.feed_ari(m)]) == [
        arrived("1796037919.33", "108", "5551008", "Waiting Caller", "11:25:19.286")
    ]
    channels = rest_response("ws_reconnect", "GET", "/ari/channels")
    bridges = rest_response("ws_reconnect", "GET", "/ari/bridges")
    assert translator.reconcile(channels, bridges) == []
    second = [e for message in second_ws for e in translator.feed_ari(message)]
    assert plain(second) == [{"type": "call_released", "call_id": "1796037919.33"}]


def test_reconcile_after_a_restart_announces_the_caller_still_in_stasis() -> None:
    channels = rest_response("ws_reconnect", "GET", "/ari/channels")
    bridges = rest_response("ws_reconnect", "GET", "/ari/bridges")
    translator = Translator()
    events = translator.reconcile(channels, bridges)
    assert plain(events) == [
        arrived("1796037919.33", "108", "5551008", "Waiting Caller", "11:25:19.286")
    ]
    assert events[0].at is None
    assert translator.reconcile(channels, bridges) == []


def test_reconcile_ends_a_call_that_vanished_while_disconnected() -> None:
    translator = Translator()
    for message in ari_events("ws_reconnect")[:2]:
        translator.feed_ari(message)
    assert plain(translator.reconcile([], [])) == [
        {"type": "caller_hung_up", "call_id": "1796037919.33"}
    ]
    late = ari_events("ws_reconnect")[2:]
    assert [e for m in late for e in translator.feed_ari(m)] == []


def test_reconcile_sees_a_continued_call_left_the_application() -> None:
    translator = Translator()
    replay_first = ari_events("blind_transfer_continue")[:1]
    translator.feed_ari(replay_first[0])
    after = rest_response("blind_transfer_continue", "GET", "/ari/channels/1796037911.29")
    assert plain(translator.reconcile([after], [])) == [
        {"type": "call_left_application", "call_id": "1796037911.29"}
    ]
