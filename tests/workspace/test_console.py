"""Pure figures of the supervisor console and the seat form's levels."""

from __future__ import annotations

import pytest

from services.workspace.console import (
    agent_rows,
    format_levels,
    longest_wait,
    parse_levels,
    service_level,
)
from services.workspace.security import csrf_for, csrf_valid


def test_service_level_is_the_routers_count_of_the_day() -> None:
    """The console shows the router's figure (one definition with the wallboard and
    Prometheus: every call that reached the queue, met only if answered within 40 s)."""
    document = {
        "wallboard": {
            "service_level_today_met": 3,
            "service_level_today_calls": 7,
            "abandoned_today": 1,
        }
    }
    level = service_level(document)
    assert (level.met, level.total, level.abandoned) == (3, 7, 1)
    assert level.percent == pytest.approx(100 * 3 / 7)


def test_no_finished_call_has_no_service_level() -> None:
    assert service_level({"wallboard": {"service_level_today_calls": 0}}).percent is None
    assert service_level(None).percent is None  # no router routing


def test_operators_are_listed_busiest_first_with_time_in_state() -> None:
    document = {
        "agents": [
            {"id": "1002", "state": "ready", "since": 90.0},
            {"id": "1001", "state": "talking", "since": 50.0, "call_id": "c1", "topic": "mfc"},
            {"id": "1003", "state": "paused", "since": 99.0, "pause_reason": "lunch"},
        ]
    }
    rows = agent_rows(document, now=100.0)
    assert [r.agent_id for r in rows] == ["1001", "1002", "1003"]
    assert rows[0].in_state == 50.0 and rows[0].call_id == "c1" and rows[2].pause_reason == "lunch"


def test_longest_wait_takes_the_queue_and_the_wallboard_figure() -> None:
    document = {
        "wallboard": {"longest_wait_seconds": 12.0},
        "waiting": [{"waited": 45.5}, {"waited": 3.0}],
    }
    assert longest_wait(document) == 45.5
    assert longest_wait({}) == 0.0


def test_levels_are_read_and_written_back_the_same() -> None:
    levels = parse_levels("mfc:3, Social:2; general:5,")
    assert levels == {"mfc": 3, "social": 2, "general": 5}
    assert parse_levels(format_levels(levels)) == levels


@pytest.mark.parametrize("text", ["mfc", "mfc:0", "mfc:6", "mfc:x", "мфц:3", ":3"])
def test_bad_levels_are_refused_with_the_part_named(text: str) -> None:
    with pytest.raises(ValueError, match="«"):
        parse_levels(text)


def test_csrf_tokens_are_bound_to_the_session_and_the_secret() -> None:
    token = csrf_for("session-a", "secret")
    assert csrf_valid(token, csrf_for("session-a", "secret"))
    assert not csrf_valid(token, csrf_for("session-b", "secret"))
    assert not csrf_valid(token, csrf_for("session-a", "other"))
    assert not csrf_valid(None, token) and not csrf_valid("", "")
