"""Everything the fake serves and emits is what ari-api-docs describes."""

from __future__ import annotations

import re

import pytest

from fakepbx.ari_app import build_app
from fakepbx.control import Controller
from fakepbx.pbx import PbxOptions, build_engine
from tests.fakepbx.replay import replay
from tests.fakepbx.shared import TRACES, read_jsonl
from tests.fakepbx.swagger import Models, documented_routes


def test_the_validator_accepts_every_recorded_event(models: Models) -> None:
    for path in TRACES.glob("*.ari.jsonl"):
        for event in read_jsonl(path):
            assert models.validate_event(event) == [], (path.name, event["type"])


def test_the_validator_rejects_what_asterisk_would_not_send(models: Models) -> None:
    event = read_jsonl(TRACES / "inbound_bridge.ari.jsonl")[0]
    assert models.validate_event({**event, "args": "agent"}) != []
    assert models.validate_event({**event, "channel": {**event["channel"], "state": "Up!"}}) != []
    assert models.validate_event({**event, "extra": 1}) != []
    del event["channel"]
    assert models.validate_event(event) != []


def test_every_served_route_is_documented() -> None:
    engine = build_engine(PbxOptions())
    app = build_app(engine, ("okno", "okno"), Controller(engine))
    served = {("GET", "/ari/events")}  # the websocket upgrade, not in the OpenAPI document
    for path, operations in app.openapi()["paths"].items():
        if path.startswith("/ari"):
            served |= {(m.upper(), re.sub(r"\{[^}]+\}", "{}", path)) for m in operations}
    assert len(served) > 40
    assert served - documented_routes() == set()


@pytest.mark.e2e
async def test_events_of_a_replayed_flow_follow_the_models(models: Models) -> None:
    result, _ = await replay("holding_moh_then_agent")
    assert result.events
    for event in result.events:
        assert models.validate_event(event) == [], event
