"""``okno sim`` and ``okno staffing``: registered into the main Typer app by ``register``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from services.acd.erlang import ServiceFigures, agents_needed
from services.acd.sim.scenario import Policy, ScenarioError, load_scenario
from services.acd.staffing import ForecastError, PlanRow, plan, read_forecast


def _fail(message: str) -> NoReturn:
    typer.secho(f"okno: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


POLICIES: dict[str, Policy] = {"full": "full", "queue_only": "queue_only", "plain": "plain"}

METRIC_LABELS = (
    ("calls", "calls"),
    ("answered", "answered by an operator"),
    ("answered_within_40s_ratio", "answered within the promise"),
    ("mean_wait_seconds", "mean wait of answered calls, s"),
    ("abandoned_ratio", "abandoned"),
    ("overflowed", "overflowed to neighbours"),
    ("self_service", "handed to self-service"),
    ("night_mode", "taken by the night auto-attendant"),
    ("ended_without_agent", "ended: no agent for the topic"),
    ("callbacks_offered", "callbacks offered"),
    ("callbacks_requested", "callbacks accepted"),
    ("callbacks_within_10min_ratio", "callbacks dialled by their deadline"),
    ("callbacks_done", "callbacks that reached the citizen"),
    ("callbacks_failed", "callbacks failed after all attempts"),
    ("waited_over_40s_without_offer", "waited past the promise without an action"),
    ("agent_occupancy", "agent occupancy"),
)


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "-"
    if key.endswith("ratio") or key == "agent_occupancy":
        return f"{value * 100:.1f} %"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _sim_table(summary: dict[str, Any]) -> str:
    centres = summary["centres"]
    columns = ["overall", *centres]
    rows = [
        [label] + [_cell(summary[key], key)] + [_cell(centres[c][key], key) for c in centres]
        for key, label in METRIC_LABELS
    ]
    header = ["", *columns]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"Scenario: {summary['scenario']} (seed {summary['seed']}, policy {summary['policy']})",
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        ),
    ]
    for row in rows:
        lines.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    if summary["unfinished"]:
        lines.append(
            f"Calls still in progress when the simulation stopped: {summary['unfinished']}"
        )
    return "\n".join(lines)


def sim(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file")],
    seed: Annotated[int | None, typer.Option(help="Random seed (default: the scenario's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write charts to this PNG file")] = None,
    policy: Annotated[
        str | None, typer.Option(help="Override the policy: full, queue_only or plain")
    ] = None,
) -> None:
    """Simulate a day of calls through the real ACD core."""
    from services.acd.sim.engine import simulate

    if policy is not None and policy not in POLICIES:
        _fail(f"--policy must be full, queue_only or plain, not {policy!r}")
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        _fail(str(exc))
    result = simulate(loaded, seed=seed, policy=POLICIES[policy] if policy else None)
    if plot is not None:
        from services.acd.sim.plot import plot_result

        answer_within = loaded.centres[0].router.answer_within_seconds
        plot_result(result, plot, f"{loaded.name} ({result.summary['policy']})", answer_within)
    if as_json:
        typer.echo(json.dumps(result.summary, ensure_ascii=False))
    else:
        typer.echo(_sim_table(result.summary))


def _figures_dict(figures: ServiceFigures) -> dict[str, Any]:
    def clean(value: float) -> float | None:
        return round(value, 4) if math.isfinite(value) else None

    return {
        "agents": figures.agents,
        "service_level": clean(figures.service_level),
        "mean_wait_seconds": clean(figures.mean_wait_seconds),
        "occupancy": clean(figures.occupancy),
        "abandoned_ratio": clean(figures.abandoned_ratio),
        "probability_wait": clean(figures.probability_wait),
    }


def _plan_table(rows: list[PlanRow], answer_within: float) -> str:
    titles = ("calls/h", "AHT s", "agents", "SL", "wait s", "occ.", "aband.")
    header = "interval".ljust(12) + "".join(
        t.rjust(9 if i == 0 else 8) for i, t in enumerate(titles)
    )
    lines = [header]
    for row in rows:
        f = row.figures
        lines.append(
            f"{row.interval:<12}{row.arrivals_per_hour:>9g}{row.aht_seconds:>8g}{f.agents:>8}"
            f"{f.service_level * 100:>7.1f}%{f.mean_wait_seconds:>8.1f}"
            f"{f.occupancy * 100:>7.1f}%{f.abandoned_ratio * 100:>7.1f}%"
        )
    lines.append(f"SL = share of calls answered within {answer_within:g} s.")
    return "\n".join(lines)


def staffing(
    arrivals_per_hour: Annotated[
        float | None, typer.Option(help="Calls offered per hour", min=0)
    ] = None,
    aht_seconds: Annotated[
        float | None, typer.Option(help="Average handle time, seconds", min=1)
    ] = None,
    answer_within: Annotated[float, typer.Option(help="Promise, seconds", min=1)] = 40.0,
    target: Annotated[
        float, typer.Option(help="Share to answer within the promise", min=0.01, max=0.999)
    ] = 0.8,
    patience_seconds: Annotated[
        float | None, typer.Option(help="Mean caller patience: use Erlang A", min=1)
    ] = None,
    forecast: Annotated[
        Path | None, typer.Option(help="CSV: interval,arrivals_per_hour,aht_seconds")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Agents needed for a service-level target (Erlang C, or Erlang A with patience)."""
    if forecast is not None:
        try:
            rows = plan(
                read_forecast(forecast),
                answer_within=answer_within,
                target=target,
                patience_seconds=patience_seconds,
            )
        except (ForecastError, ValueError) as exc:
            _fail(str(exc))
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in rows]))
        else:
            typer.echo(_plan_table(rows, answer_within))
        return
    if arrivals_per_hour is None or aht_seconds is None:
        _fail("give --arrivals-per-hour and --aht-seconds, or --forecast FILE.csv")
    try:
        figures = agents_needed(
            arrivals_per_hour, aht_seconds, answer_within, target, patience_seconds
        )
    except ValueError as exc:
        _fail(str(exc))
    model = "Erlang A" if patience_seconds is not None else "Erlang C"
    if as_json:
        typer.echo(json.dumps({"model": model, **_figures_dict(figures)}))
        return
    typer.echo(
        f"{model}: {figures.agents} agents answer {figures.service_level * 100:.1f} % of calls "
        f"within {answer_within:g} s (target {target * 100:g} %); mean wait "
        f"{figures.mean_wait_seconds:.1f} s, occupancy {figures.occupancy * 100:.1f} %"
        + (
            f", abandoned {figures.abandoned_ratio * 100:.1f} %"
            if patience_seconds is not None
            else ""
        )
        + "."
    )


def register(app: typer.Typer) -> None:
    """Add ``sim`` and ``staffing`` to the ``okno`` command."""
    app.command("sim")(sim)
    app.command("staffing")(staffing)
