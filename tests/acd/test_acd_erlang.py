"""Erlang C / Erlang A, staffing plans, and the simulator against queueing theory."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from services.acd.erlang import (
    agents_needed,
    erlang_a_figures,
    erlang_c,
    erlang_c_figures,
)
from services.acd.sim.engine import simulate
from services.acd.sim.scenario import parse_scenario
from services.acd.staffing import ForecastError, plan, read_forecast


def test_erlang_c_textbook_value() -> None:
    # 10 Erlangs on 12 agents: P(wait) = 0.4494 (standard tables).
    assert erlang_c(12, 10.0) == pytest.approx(0.4494, abs=5e-4)
    assert erlang_c(5, 5.0) == 1.0


def test_erlang_c_service_level_formula() -> None:
    figures = erlang_c_figures(50, 900, 180, 40)
    load = 900 / 3600 * 180
    expected = 1 - erlang_c(50, load) * math.exp(-(50 - load) * 40 / 180)
    assert figures.service_level == pytest.approx(expected)
    assert figures.occupancy == pytest.approx(0.9)
    assert figures.mean_wait_seconds == pytest.approx(erlang_c(50, load) * 180 / (50 - load))


def test_erlang_a_tends_to_erlang_c_without_abandonment() -> None:
    a = erlang_a_figures(20, 360, 180, 40, patience_seconds=1e7)
    c = erlang_c_figures(20, 360, 180, 40)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    assert a.mean_wait_seconds == pytest.approx(c.mean_wait_seconds, rel=1e-3)


def test_erlang_a_abandonment_reduces_waits_and_staff() -> None:
    impatient = erlang_a_figures(45, 900, 180, 40, patience_seconds=60)
    patient = erlang_c_figures(46, 900, 180, 40)
    assert 0 < impatient.abandoned_ratio < 0.2
    assert impatient.mean_wait_seconds < patient.mean_wait_seconds
    assert agents_needed(900, 180, 40, 0.8, 60).agents < agents_needed(900, 180, 40, 0.8).agents


def test_agents_needed_is_the_smallest_meeting_target() -> None:
    best = agents_needed(900, 180, 40, 0.8)
    assert best.service_level >= 0.8
    assert erlang_c_figures(best.agents - 1, 900, 180, 40).service_level < 0.8


def test_forecast_plan(tmp_path: Path) -> None:
    forecast = tmp_path / "monday.csv"
    forecast.write_text(
        "interval,arrivals_per_hour,aht_seconds\n08:00,300,180\n08:30,600,180\n09:00,0,180\n"
    )
    rows = plan(read_forecast(forecast), answer_within=40, target=0.8)
    assert [r.interval for r in rows] == ["08:00", "08:30", "09:00"]
    assert rows[0].figures.agents < rows[1].figures.agents
    assert rows[2].figures.agents == 0


def test_forecast_errors_name_file_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("interval,arrivals_per_hour,aht_seconds\n08:00,lots,180\n")
    with pytest.raises(ForecastError, match=r"broken.csv: line 2, column arrivals_per_hour"):
        read_forecast(broken)
    missing = tmp_path / "missing.csv"
    missing.write_text("interval,calls\n08:00,5\n")
    with pytest.raises(ForecastError, match="missing column"):
        read_forecast(missing)


def mmc_scenario(agents: int, load: float, aht: float, calls: int) -> dict[str, object]:
    per_half_hour = load * agents / aht * 1800
    intervals = max(1, round(calls / per_half_hour))
    return {
        "name": f"M/M/{agents}",
        "policy": "plain",
        "drain_hours": 24,
        "centres": [
            {
                "name": "main",
                "router": {"auto_answer": True},
                "agents": [{"count": agents, "skills": {"general": 1}}],
                "arrivals": [
                    {
                        "per_half_hour": [per_half_hour] * intervals,
                        "handle": {"kind": "exponential", "mean": aht},
                        "patience": {"kind": "exponential", "mean": 30},
                    }
                ],
            }
        ],
    }


@pytest.mark.parametrize(("agents", "load", "aht"), [(10, 0.8, 120), (30, 0.85, 180)])
def test_plain_simulation_agrees_with_erlang_c(agents: int, load: float, aht: float) -> None:
    """Pooled over several seeds, the service level is within 1 point of Erlang C.

    The scenario's patience is ignored under ``policy: plain`` (it would otherwise cut waits).
    """
    scenario = parse_scenario(mmc_scenario(agents, load, aht, 40_000), "mmc")
    within = calls = 0
    for seed in (1, 2, 3, 4):
        summary = simulate(scenario, seed=seed).summary
        assert summary["abandoned_ratio"] == 0.0
        assert summary["unfinished"] == 0
        within += round(summary["answered_within_40s_ratio"] * summary["calls"])
        calls += summary["calls"]
    theory = erlang_c_figures(agents, load * agents / aht * 3600, aht, 40).service_level
    assert calls > 150_000
    assert abs(within / calls - theory) < 0.01
