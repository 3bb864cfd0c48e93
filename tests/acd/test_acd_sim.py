"""The simulator: scenario files, example scenarios, the figures it reports."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from services.acd import commands as c
from services.acd import events as e
from services.acd.sim.engine import Simulation, simulate
from services.acd.sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "services" / "acd" / "scenarios"
KEYS = {
    "calls",
    "answered",
    "answered_within_40s_ratio",
    "mean_wait_seconds",
    "abandoned_ratio",
    "overflowed",
    "callbacks_offered",
    "callbacks_within_10min_ratio",
    "waited_over_40s_without_offer",
    "agent_occupancy",
}


def small(**overrides: object) -> dict[str, object]:
    scenario: dict[str, object] = {
        "name": "small",
        "centres": [
            {
                "name": "main",
                "agents": [{"count": 3, "skills": {"general": 3}}],
                "arrivals": [
                    {
                        "per_half_hour": [40, 40],
                        "handle": {"kind": "exponential", "mean": 150},
                        "patience": {"kind": "fixed", "value": 60},
                    }
                ],
            }
        ],
    }
    scenario.update(overrides)
    return scenario


@pytest.mark.parametrize("name", ["quiet_day", "monday_peak", "two_centres"])
def test_example_scenarios_run_and_keep_the_promise(name: str) -> None:
    summary = simulate(load_scenario(SCENARIOS / f"{name}.yaml")).summary
    assert KEYS <= set(summary)
    for centre in summary["centres"].values():
        assert KEYS <= set(centre)
    assert summary["calls"] == sum(c["calls"] for c in summary["centres"].values())
    assert summary["waited_over_40s_without_offer"] == 0
    assert summary["unfinished"] == 0


def test_monday_peak_fallbacks_beat_a_plain_queue() -> None:
    scenario = load_scenario(SCENARIOS / "monday_peak.yaml")
    full = simulate(scenario).summary
    queue = simulate(scenario, policy="queue_only").summary
    assert full["overflowed"] > 0 and full["callbacks_offered"] > 0
    assert queue["overflowed"] == 0 and queue["callbacks_offered"] == 0
    assert queue["waited_over_40s_without_offer"] > 0
    assert full["answered_within_40s_ratio"] > queue["answered_within_40s_ratio"]
    assert 0 < full["callbacks_within_10min_ratio"] <= 1


def test_runs_are_reproducible_per_seed() -> None:
    scenario = parse_scenario(small(), "small")
    assert simulate(scenario, seed=5).summary == simulate(scenario, seed=5).summary
    assert simulate(scenario, seed=5).summary != simulate(scenario, seed=6).summary


def test_overloaded_centre_without_guarantee_reports_violations() -> None:
    crowded = small(policy="queue_only")
    crowded["centres"][0]["arrivals"][0]["per_half_hour"] = [200, 200]  # type: ignore[index]
    summary = simulate(parse_scenario(crowded, "crowded")).summary
    assert summary["abandoned_ratio"] > 0.2
    assert summary["waited_over_40s_without_offer"] > 0
    assert summary["agent_occupancy"] > 0.9


def test_plain_policy_makes_patience_infinite() -> None:
    summary = simulate(parse_scenario(small(policy="plain"), "small")).summary
    assert summary["abandoned_ratio"] == 0.0
    assert summary["answered"] == summary["calls"]


def test_shifts_and_estimate_histogram() -> None:
    scenario = small()
    scenario["centres"][0]["agents"] = [  # type: ignore[index]
        {"count": 2, "skills": {"general": 3}, "shift": [0, 0.5]},
        {"count": 2, "skills": {"general": 3}, "shift": [0.5, 1]},
    ]
    scenario["centres"][0]["arrivals"][0]["callback_accept_probability"] = 0  # type: ignore[index]
    summary = simulate(parse_scenario(scenario, "shifts")).summary
    assert summary["answered"] > 0
    assert sum(summary["wait_estimate_error_histogram"].values()) > 0
    assert len(summary["service_level_by_interval"]) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\ncentres: []\n", r"bad.yaml: centres: List should have at least 1 item"),
        ("name: [unclosed\n", r"bad.yaml: not valid YAML"),
        (
            "name: x\ncentres:\n  - name: a\n    agents: [{count: 1, skills: {g: 1}}]\n"
            "    arrivals: [{per_half_hour: [1], handle: {kind: lognormal, mean: 5}}]\n",
            r"centres.0.arrivals.0.handle: Value error, lognormal distribution needs sd",
        ),
        (
            "name: x\ncentres:\n  - name: a\n    neighbours: [b]\n"
            "    agents: [{count: 1, skills: {g: 1}}]\n"
            "    arrivals: [{per_half_hour: [1], handle: {kind: fixed, value: 5}}]\n",
            r"neighbours must be other centres",
        ),
        (
            "name: x\ncentres:\n  - name: a\n    router: {deadline_seconds: 50}\n"
            "    agents: [{count: 1, skills: {g: 1}}]\n"
            "    arrivals: [{per_half_hour: [1], handle: {kind: fixed, value: 5}}]\n",
            r"centres.0.router: Value error, deadline_seconds must not exceed",
        ),
    ],
)
def test_bad_scenarios_name_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(bad)


def test_missing_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="nowhere.yaml: cannot read file"):
        load_scenario(tmp_path / "nowhere.yaml")


def test_late_callbacks_lower_the_callback_ratio() -> None:
    scenario = small()
    centre = scenario["centres"][0]  # type: ignore[index]
    centre["arrivals"][0].update(
        per_half_hour=[90, 90],
        callback_accept_probability=1.0,
        patience={"kind": "fixed", "value": 300},
    )
    centre["router"] = {"callback_within_seconds": 120, "callback_lead_seconds": 0}
    summary = simulate(parse_scenario(scenario, "overloaded callbacks")).summary
    assert summary["callbacks_requested"] > 100
    assert summary["callbacks_within_10min_ratio"] < 0.5
    assert summary["waited_over_40s_without_offer"] == 0
    assert 0.9 < summary["agent_occupancy"] <= 1.0


class RecordingSimulation(Simulation):
    """Keeps the events it sends through ``_apply`` and every command list it acts out.

    The loop's own fast path (arrivals and call ends) skips ``_execute`` only for a lone
    ``Queued``, an auto-answered ``ConnectAgent`` and ``CallFinished answered``, which the
    callback figures do not use.
    """

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self.log: list[tuple[float, e.Event | None, list[c.Command]]] = []

    def _apply(self, index: int, event: e.Event, t: float) -> list[c.Command]:
        self.log.append((t, event, []))
        return super()._apply(index, event, t)

    def _execute(self, index: int, commands: list[c.Command], t: float) -> None:
        self.log.append((t, None, list(commands)))
        super()._execute(index, commands, t)


def on_time_from_records(
    log: list[tuple[float, e.Event | None, list[c.Command]]],
) -> tuple[int, int]:
    """(callbacks whose citizen was first dialled by the first promise, callbacks requested)."""
    deadline: dict[str, float] = {}
    attempt: dict[str, int] = {}
    first_dial: dict[str, float] = {}
    for now, event, commands in log:
        if isinstance(event, e.AgentAnswered) and attempt.get(event.call_id) == 1:
            first_dial.setdefault(event.call_id, now)
        for cmd in commands:
            if isinstance(cmd, c.CallbackScheduled) and cmd.attempt == 1:
                deadline[cmd.callback_id] = cmd.deadline
            elif isinstance(cmd, c.DialCallback):
                attempt[cmd.callback_id] = cmd.attempt
    on_time = sum(1 for cb, at in first_dial.items() if at <= deadline[cb])
    return on_time, len(deadline)


@pytest.mark.parametrize("overflow", [True, False])
def test_monday_peak_callback_offer_keeps_the_promise(overflow: bool) -> None:
    data = yaml.safe_load((SCENARIOS / "monday_peak.yaml").read_text())
    for centre in data["centres"]:
        centre["router"]["overflow"] = overflow
    sim = RecordingSimulation(parse_scenario(data, "monday peak"))
    summary = sim.run().summary
    assert summary["waited_over_40s_without_offer"] == 0
    on_time, requested = on_time_from_records(sim.log)
    assert requested == summary["callbacks_requested"] > 0
    assert summary["callbacks_within_10min_ratio"] == round(on_time / requested, 4)
    assert 0 < summary["callbacks_within_10min_ratio"] <= 1
    failed = [
        cmd
        for _, _, commands in sim.log
        for cmd in commands
        if isinstance(cmd, c.CallFinished) and cmd.outcome == "callback_failed"
    ]
    assert summary["callbacks_failed"] == len(failed)
    if not overflow:
        assert summary["overflowed"] == 0
        assert summary["callbacks_offered"] > 100


def test_citizens_who_never_answer_make_callbacks_fail_after_all_attempts() -> None:
    scenario = small()
    centre = scenario["centres"][0]  # type: ignore[index]
    centre["arrivals"][0].update(
        callback_accept_probability=1.0,
        callback_answer_probability=0.0,
        callback_busy_probability=0.5,
    )
    centre["router"] = {"callback_max_attempts": 2, "callback_retry_seconds": 60}
    summary = simulate(parse_scenario(scenario, "unreachable citizens")).summary
    assert summary["callbacks_requested"] > 0
    assert summary["callbacks_failed"] == summary["callbacks_requested"]
    assert summary["callbacks_done"] == 0
