"""Staffing plans from arrival forecasts (R8 needs enough operators to route optimally)."""

from __future__ import annotations

import csv
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from services.acd.erlang import ServiceFigures, agents_needed


class ForecastError(Exception):
    """A forecast file that cannot be used; the message names the file, line and column."""


@dataclass(frozen=True)
class ForecastRow:
    interval: str
    arrivals_per_hour: float
    aht_seconds: float


@dataclass(frozen=True)
class PlanRow:
    interval: str
    arrivals_per_hour: float
    aht_seconds: float
    figures: ServiceFigures

    def as_dict(self) -> dict[str, Any]:
        figures = asdict(self.figures)
        return {
            "interval": self.interval,
            "arrivals_per_hour": self.arrivals_per_hour,
            "aht_seconds": self.aht_seconds,
            **{k: _finite(v) for k, v in figures.items()},
        }


def _finite(value: float) -> float | int | None:
    if isinstance(value, int):
        return value
    return round(value, 4) if math.isfinite(value) else None


REQUIRED_COLUMNS = ("interval", "arrivals_per_hour", "aht_seconds")


def read_forecast(path: str | Path) -> list[ForecastRow]:
    """CSV with columns ``interval,arrivals_per_hour,aht_seconds`` (one row per interval)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ForecastError(f"{source}: cannot read file ({exc.strerror})") from None
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ForecastError(f"{source}: missing column(s) {', '.join(missing)}")
    rows = []
    for line, record in enumerate(reader, start=2):
        values = {}
        for column in ("arrivals_per_hour", "aht_seconds"):
            try:
                values[column] = float(record[column])
            except (TypeError, ValueError):
                raise ForecastError(
                    f"{source}: line {line}, column {column}: not a number: {record[column]!r}"
                ) from None
            if values[column] < 0 or (column == "aht_seconds" and values[column] == 0):
                raise ForecastError(f"{source}: line {line}, column {column}: must be positive")
        rows.append(
            ForecastRow(record["interval"], values["arrivals_per_hour"], values["aht_seconds"])
        )
    if not rows:
        raise ForecastError(f"{source}: no intervals")
    return rows


def plan(
    rows: list[ForecastRow],
    *,
    answer_within: float,
    target: float,
    patience_seconds: float | None = None,
) -> list[PlanRow]:
    """Agents needed per interval to reach ``target`` answered within ``answer_within``."""
    return [
        PlanRow(
            row.interval,
            row.arrivals_per_hour,
            row.aht_seconds,
            agents_needed(
                row.arrivals_per_hour, row.aht_seconds, answer_within, target, patience_seconds
            ),
        )
        for row in rows
    ]
