"""``okno sim`` and ``okno staffing`` through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from services.acd.cli import register

SCENARIOS = Path(__file__).resolve().parents[2] / "services" / "acd" / "scenarios"


def okno() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_sim_json_has_the_figures() -> None:
    result = CliRunner().invoke(
        okno(), ["sim", str(SCENARIOS / "two_centres.yaml"), "--seed", "4", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["seed"] == 4
    assert set(summary["centres"]) == {"tomsk", "novosibirsk"}
    assert summary["answered_within_40s_ratio"] > 0.5


def test_sim_table_and_plot(tmp_path: Path) -> None:
    png = tmp_path / "peak.png"
    result = CliRunner().invoke(
        okno(),
        ["sim", str(SCENARIOS / "quiet_day.yaml"), "--policy", "queue_only", "--plot", str(png)],
    )
    assert result.exit_code == 0, result.output
    assert "answered within the promise" in result.output
    assert "policy queue_only" in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sim_bad_file_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "typo.yaml"
    bad.write_text("name: x\nsed: 3\ncentres: []\n")
    result = CliRunner().invoke(okno(), ["sim", str(bad)])
    assert result.exit_code == 2
    assert "typo.yaml" in result.output and "sed: Extra inputs are not permitted" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(okno(), ["sim", str(bad), "--policy", "fast"])
    assert result.exit_code == 2 and "--policy must be" in result.output


def test_staffing_erlang_c_and_a() -> None:
    runner = CliRunner()
    result = runner.invoke(
        okno(), ["staffing", "--arrivals-per-hour", "900", "--aht-seconds", "180", "--json"]
    )
    assert result.exit_code == 0, result.output
    erlang_c = json.loads(result.output)
    assert erlang_c["model"] == "Erlang C" and erlang_c["agents"] == 49
    assert erlang_c["service_level"] >= 0.8
    result = runner.invoke(
        okno(),
        [
            "staffing",
            "--arrivals-per-hour",
            "900",
            "--aht-seconds",
            "180",
            "--patience-seconds",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Erlang A: 41 agents")


def test_staffing_forecast_file(tmp_path: Path) -> None:
    forecast = tmp_path / "day.csv"
    forecast.write_text("interval,arrivals_per_hour,aht_seconds\n08:00,200,180\n09:00,500,200\n")
    result = CliRunner().invoke(okno(), ["staffing", "--forecast", str(forecast), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["interval"] for r in rows] == ["08:00", "09:00"]
    assert rows[1]["agents"] > rows[0]["agents"]
    result = CliRunner().invoke(okno(), ["staffing"])
    assert result.exit_code == 2 and "--forecast" in result.output
