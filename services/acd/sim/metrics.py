"""Tallies kept while simulating and the JSON summary built from them."""

from __future__ import annotations

from collections import Counter
from itertools import repeat
from operator import floordiv, sub
from typing import Any

FIELDS = (
    "abandoned",
    "answered",
    "busy_seconds",
    "callbacks_dialled_in_time",
    "callbacks_done",
    "callbacks_failed",
    "callbacks_offered",
    "callbacks_requested",
    "calls",
    "ended",
    "night",
    "overflowed",
    "self_service",
    "staffed_seconds",
    "violations",
    "wait_sum",
    "within",
)


class Tally:
    """Counters for the calls that first arrived at one centre (followed wherever they went)."""

    __slots__ = FIELDS

    def __init__(self) -> None:
        self.calls = 0
        self.answered = 0
        self.within = 0
        self.wait_sum = 0.0
        self.abandoned = 0
        self.overflowed = 0
        self.self_service = 0
        self.night = 0
        self.ended = 0
        self.callbacks_offered = 0
        self.callbacks_requested = 0
        self.callbacks_dialled_in_time = 0
        self.callbacks_done = 0
        self.callbacks_failed = 0
        self.violations = 0
        self.busy_seconds = 0.0
        self.staffed_seconds = 0.0

    def add(self, other: Tally) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def summarise(tally: Tally) -> dict[str, Any]:
    """The figures ``okno sim --json`` prints, for one centre or overall."""
    return {
        "calls": tally.calls,
        "answered": tally.answered,
        "answered_within_40s_ratio": _ratio(tally.within, tally.calls),
        "mean_wait_seconds": round(tally.wait_sum / tally.answered, 2) if tally.answered else None,
        "abandoned_ratio": _ratio(tally.abandoned, tally.calls),
        "overflowed": tally.overflowed,
        "self_service": tally.self_service,
        "night_mode": tally.night,
        "ended_without_agent": tally.ended,
        "callbacks_offered": tally.callbacks_offered,
        "callbacks_requested": tally.callbacks_requested,
        "callbacks_within_10min_ratio": _ratio(
            tally.callbacks_dialled_in_time, tally.callbacks_requested
        ),
        "callbacks_done": tally.callbacks_done,
        "callbacks_failed": tally.callbacks_failed,
        "waited_over_40s_without_offer": tally.violations,
        "agent_occupancy": _ratio(tally.busy_seconds, tally.staffed_seconds),
    }


def histogram(values: list[float], width: float, low: float, high: float) -> dict[str, int]:
    """Counts per ``width``-second bin in [low, high), with open-ended bins at both ends."""
    edges = int((high - low) // width)
    # int((value - low) // width) for every value, in C-level passes (a hot spot for long runs).
    counts = Counter(map(int, map(floordiv, map(sub, values, repeat(low)), repeat(width))))
    for index in [i for i in counts if i < -1 or i > edges]:  # fold the tails into the open bins
        counts[-1 if index < 0 else edges] += counts.pop(index)
    labels = {-1: f"<{low:g}", edges: f">={high:g}"}
    labels.update({i: f"{low + i * width:g}..{low + (i + 1) * width:g}" for i in range(edges)})
    return {labels[i]: counts[i] for i in range(-1, edges + 1) if counts[i]}
