"""Charts of a simulation run: the wait distribution and the service level per half hour."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

from services.acd.sim.engine import SimResult  # noqa: E402


def plot_result(result: SimResult, path: str | Path, title: str, answer_within: float) -> None:
    """Write a two-panel PNG: waits of answered calls, and service level per interval."""
    fig, (waits_ax, level_ax) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=110)
    waits = result.waits
    upper = max([answer_within * 3, *waits]) if waits else answer_within * 3
    bins = [i * 5.0 for i in range(int(min(upper, 600) // 5) + 2)]
    waits_ax.hist([min(w, bins[-1]) for w in waits], bins=bins, color="#3b7dd8")
    waits_ax.axvline(answer_within, color="#d62728", linestyle="--", label=f"{answer_within:g} s")
    waits_ax.set_xlabel("wait until an operator answered, s")
    waits_ax.set_ylabel("answered calls")
    waits_ax.set_title("Wait distribution (answered calls)")
    waits_ax.legend()

    levels = [
        (w / n if n else None)
        for w, n in zip(result.interval_within, result.interval_calls, strict=True)
    ]
    hours = [i * 0.5 for i in range(len(levels))]
    shown = [(h, lv) for h, lv in zip(hours, levels, strict=True) if lv is not None]
    level_ax.bar(
        [h for h, _ in shown],
        [lv * 100 for _, lv in shown],
        width=0.45,
        align="edge",
        color="#2ca02c",
    )
    level_ax.set_ylim(0, 100)
    level_ax.set_xlabel("hours from the start of the scenario")
    level_ax.set_ylabel(f"% answered within {answer_within:g} s")
    level_ax.set_title("Service level per half hour")
    calls = level_ax.twinx()
    calls.plot([h + 0.25 for h in hours], result.interval_calls, color="#444444", marker=".")
    calls.set_ylabel("calls offered per half hour")
    summary = result.summary
    fig.suptitle(
        f"{title} — answered within {answer_within:g} s: "
        f"{_percent(summary.get('answered_within_40s_ratio'))}, "
        f"abandoned {_percent(summary.get('abandoned_ratio'))}, "
        f"overflowed {summary.get('overflowed', 0)}, "
        f"callbacks offered {summary.get('callbacks_offered', 0)}"
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _percent(value: object) -> str:
    return f"{float(value) * 100:.1f} %" if isinstance(value, int | float) else "n/a"
