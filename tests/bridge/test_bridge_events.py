"""Domain events survive a Redis Stream entry (flat str -> str) unchanged."""

from __future__ import annotations

import json
import typing
from datetime import UTC, datetime, timedelta, timezone

import pytest
from bridge_traces import API_DOCS
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ari_bridge.ari_events_ws import events_url
from ari_bridge.events import (
    AgentHungUp,
    CallArrived,
    CallerHungUp,
    DeviceState,
    DomainEvent,
    OperatorDeviceState,
    from_fields,
    to_fields,
)

EVENT_CLASSES = typing.get_args(typing.get_args(DomainEvent)[0])
times = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=7))]),
)


@given(st.one_of([st.builds(cls, at=times) for cls in EVENT_CLASSES]))
def test_every_event_round_trips_through_stream_fields(event: DomainEvent) -> None:
    fields = to_fields(event)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    assert fields["type"] == event.type
    assert fields["v"] == "1"
    assert from_fields(fields) == event


def test_fields_are_flat_and_readable() -> None:
    event = AgentHungUp(
        leg_id="1.2",
        agent="1001",
        call_id=None,
        cause=16,
        by_bridge=False,
        at=datetime(2026, 11, 30, 11, 24, 31, 272000, tzinfo=UTC),
    )
    assert to_fields(event) == {
        "v": "1",
        "at": "2026-11-30T11:24:31.272000Z",
        "type": "agent_hung_up",
        "leg_id": "1.2",
        "agent": "1001",
        "cause": "16",
        "by_bridge": "false",
    }
    state = OperatorDeviceState(endpoint="PJSIP/op1001", state=DeviceState.IN_USE)
    assert to_fields(state)["state"] == "in_use"


def test_unknown_type_or_version_is_refused() -> None:
    fields = to_fields(CallerHungUp(call_id="1.1", cause=16))
    with pytest.raises(ValidationError):
        from_fields({**fields, "type": "call_teleported"})
    with pytest.raises(ValidationError):
        from_fields({**fields, "v": "2"})


def test_events_are_frozen() -> None:
    event = CallArrived(call_id="1.1", did="101", caller_number="5551001", caller_name="")
    with pytest.raises(ValidationError):
        event.did = "102"  # type: ignore[misc]


def test_event_websocket_url_uses_only_documented_parameters() -> None:
    api = next(
        a
        for a in json.loads((API_DOCS / "events.json").read_text())["apis"]
        if a["path"] == "/events"
    )
    declared = {p["name"] for p in api["operations"][0]["parameters"]}
    url = events_url("ws://127.0.0.1:8088/ari/", "okno")
    assert url == "ws://127.0.0.1:8088/ari/events?app=okno"
    assert {"app"} <= declared
