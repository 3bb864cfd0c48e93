"""Properties of the translator under re-delivery, interleaving and arbitrary terminal events."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bridge_traces import ari_events
from hypothesis import given, settings
from hypothesis import strategies as st

from ari_bridge.events import AGENT_LEG_ENDINGS, CALL_ENDINGS, CallArrived, DomainEvent
from ari_bridge.translate import Translator

CALL_FLOWS = {
    "inbound_bridge": {"1796037868.2": ("1001", "1796037868.1")},
    "caller_abandon_playback": {},
    "dtmf_menu": {},
    "holding_moh_then_agent": {"1796037889.12": ("1002", "1796037887.9")},
    "agent_no_answer": {
        "1796037896.18": ("1001", "1796037895.15"),
        "1796037901.20": ("1002", "1796037895.15"),
    },
    "caller_hangup_while_agent_ringing": {"1796037907.26": ("1001", "1796037906.23")},
    "blind_transfer_continue": {},
    "record_voice_message": {},
    "dtmf_during_hold_for_callback": {},
}
LIFECYCLE = {
    "StasisStart",
    "StasisEnd",
    "ChannelHangupRequest",
    "ChannelDestroyed",
    "Dial",
    "ChannelStateChange",
}
TRACES = {name: ari_events(name) for name in CALL_FLOWS}


def fresh_translator() -> Translator:
    translator = Translator()
    for legs in CALL_FLOWS.values():
        for leg_id, (agent, call_id) in legs.items():
            translator.expect_agent_leg(leg_id, agent=agent, call_id=call_id)
    return translator


def run(messages: list[dict[str, Any]]) -> list[DomainEvent]:
    translator = fresh_translator()
    return [event for message in messages for event in translator.feed_ari(message)]


def subject(event: DomainEvent) -> str:
    return str(getattr(event, "leg_id", None) or getattr(event, "call_id", ""))


def assert_lifecycle_sane(events: list[DomainEvent]) -> None:
    """Each call/leg ends at most once, and nothing about it follows its ending."""
    ended: set[str] = set()
    arrivals = Counter(e.call_id for e in events if isinstance(e, CallArrived))
    assert all(count == 1 for count in arrivals.values())
    for event in events:
        key = subject(event)
        assert key not in ended, f"{event.type} after the end of {key}"
        if isinstance(event, CALL_ENDINGS + AGENT_LEG_ENDINGS):
            ended.add(key)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(CALL_FLOWS)), st.data())
def test_redelivered_lifecycle_events_change_nothing(name: str, data: st.DataObject) -> None:
    messages = TRACES[name]
    repeats = data.draw(st.lists(st.integers(0, 2), min_size=len(messages), max_size=len(messages)))
    redelivered = []
    for message, extra in zip(messages, repeats, strict=True):
        copies = 1 + (extra if message["type"] in LIFECYCLE else 0)
        redelivered += [message] * copies
    assert run(redelivered) == run(messages)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(CALL_FLOWS)), min_size=2, max_size=5, unique=True),
    st.randoms(use_true_random=False),
)
def test_concurrent_calls_do_not_disturb_each_other(names: list[str], rnd: Any) -> None:
    """Any interleaving of several flows yields each flow's own events, in its own order."""
    queues = [list(TRACES[name]) for name in names]
    merged: list[dict[str, Any]] = []
    while any(queues):
        queue = rnd.choice([q for q in queues if q])
        merged.append(queue.pop(0))
    events = run(merged)
    for name in names:
        own = run(TRACES[name])
        ids = {subject(e) for e in own}
        assert [e for e in events if subject(e) in ids] == own


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(CALL_FLOWS)), st.randoms(use_true_random=False))
def test_shuffled_delivery_never_ends_a_call_twice(name: str, rnd: Any) -> None:
    messages = list(TRACES[name])
    rnd.shuffle(messages)
    assert_lifecycle_sane(run(messages))


CHANNELS = ("10.1", "10.2", "10.3")


def synthetic(kind: str, channel_id: str, cause: int, soft: bool) -> dict[str, Any]:
    channel = {
        "id": channel_id,
        "state": "Up",
        "caller": {"name": "", "number": "1"},
        "dialplan": {
            "context": "from-pstn",
            "exten": "100",
            "app_name": "Stasis",
            "app_data": "okno",
        },
    }
    message: dict[str, Any] = {"type": kind, "channel": channel}
    if kind == "StasisStart":
        message["args"] = []
    if kind in ("ChannelHangupRequest", "ChannelDestroyed"):
        message["cause"] = cause
    if kind == "ChannelHangupRequest" and soft:
        message["soft"] = True
    return message


terminal_streams = st.lists(
    st.builds(
        synthetic,
        st.sampled_from(
            [
                "StasisStart",
                "StasisEnd",
                "ChannelHangupRequest",
                "ChannelDestroyed",
                "ChannelDtmfReceived",
            ]
        ),
        st.sampled_from(CHANNELS),
        st.sampled_from([16, 17, 19, 32]),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(terminal_streams)
def test_arbitrary_terminal_events_end_each_call_at_most_once(stream: list[dict[str, Any]]) -> None:
    events = run(stream)
    assert_lifecycle_sane(events)
    arrived = {e.call_id for e in events if isinstance(e, CallArrived)}
    ended = [subject(e) for e in events if isinstance(e, CALL_ENDINGS)]
    assert set(ended) <= arrived


@settings(max_examples=100, deadline=None)
@given(terminal_streams, st.lists(st.sampled_from(CHANNELS), unique=True))
def test_reconcile_never_duplicates_what_events_said(
    stream: list[dict[str, Any]], still_there: list[str]
) -> None:
    translator = fresh_translator()
    events = [event for message in stream for event in translator.feed_ari(message)]
    channels = [synthetic("StasisStart", cid, 0, False)["channel"] for cid in still_there]
    events += translator.reconcile(channels, [])
    assert translator.reconcile(channels, []) == []
    assert_lifecycle_sane(events)
    assert translator.live_call_ids == frozenset(still_there) - {
        subject(e) for e in events if isinstance(e, CALL_ENDINGS)
    }


def presence_message(link: str, endpoint: str, up: bool, contact: int) -> tuple[str, Any]:
    if link == "ari_endpoint":
        body = {"technology": "PJSIP", "resource": endpoint, "state": "online" if up else "offline"}
        return "ari", {"type": "EndpointStateChange", "endpoint": body}
    if link == "ari_peer":
        body = {"technology": "PJSIP", "resource": endpoint}
        peer = {"peer_status": "Reachable" if up else "Unreachable"}
        return "ari", {"type": "PeerStatusChange", "endpoint": body, "peer": peer}
    if link == "ami_peer":
        status = "Reachable" if up else "Unreachable"
        return "ami", {"Event": "PeerStatus", "Peer": f"PJSIP/{endpoint}", "PeerStatus": status}
    return "ami", {
        "Event": "ContactStatus",
        "EndpointName": endpoint,
        "URI": f"sip:{endpoint}@127.0.0.1:{6000 + contact}",
        "ContactStatus": "Reachable" if up else "Removed",
    }


presence_streams = st.lists(
    st.builds(
        presence_message,
        st.sampled_from(["ari_endpoint", "ari_peer", "ami_peer", "ami_contact"]),
        st.sampled_from(["op1001", "op1002"]),
        st.booleans(),
        st.integers(0, 2),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(presence_streams)
def test_presence_from_both_links_alternates_per_endpoint(stream: list[tuple[str, Any]]) -> None:
    """However the links repeat themselves, an operator is never reported online twice in a
    row, nor offline twice."""
    translator = Translator()
    events: list[DomainEvent] = []
    for link, message in stream:
        events += (translator.feed_ari if link == "ari" else translator.feed_ami)(message)
    for endpoint in ("PJSIP/op1001", "PJSIP/op1002"):
        kinds = [e.type for e in events if getattr(e, "endpoint", None) == endpoint]
        assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False))
