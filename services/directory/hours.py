"""Opening hours in the centre's time zone: is an office open at a moment, and until when.

Pure functions over plain data, so "open now" is tested without a database or a clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SHORTENED_BY = dt.timedelta(hours=1)
_LOOKAHEAD_DAYS = 14


@dataclass(frozen=True, slots=True)
class Period:
    """Opening period on a weekday (0 = Monday), with an optional break inside it."""

    weekday: int
    opens: dt.time
    closes: dt.time
    break_start: dt.time | None = None
    break_end: dt.time | None = None


@dataclass(frozen=True, slots=True)
class OpenState:
    """Whether an office is open, why, and when that changes (local time; None if not within
    two weeks)."""

    is_open: bool
    reason: Literal["open", "break", "closed", "holiday"]
    changes_at: dt.datetime | None


def _minus(t: dt.time, delta: dt.timedelta) -> dt.time:
    return (dt.datetime.combine(dt.date.min, t) - delta).time()


def day_intervals(
    periods: Iterable[Period],
    day: dt.date,
    closed_days: frozenset[dt.date],
    calendar: Mapping[dt.date, str],
) -> list[tuple[dt.time, dt.time]]:
    """The open intervals of one date, after holidays, days off and shortened days."""
    if day in closed_days or calendar.get(day) == "holiday":
        return []
    shortened = calendar.get(day) == "shortened"
    intervals: list[tuple[dt.time, dt.time]] = []
    for period in periods:
        if period.weekday != day.weekday():
            continue
        closes = _minus(period.closes, _SHORTENED_BY) if shortened else period.closes
        if closes <= period.opens:
            continue
        if period.break_start and period.break_end and period.break_start < closes:
            intervals.append((period.opens, period.break_start))
            if period.break_end < closes:
                intervals.append((period.break_end, closes))
        else:
            intervals.append((period.opens, closes))
    return sorted(intervals)


def open_state(
    periods: Iterable[Period],
    at: dt.datetime,
    *,
    closed_days: frozenset[dt.date] = frozenset(),
    calendar: Mapping[dt.date, str] | None = None,
) -> OpenState:
    """Whether an office is open at `at` (an aware datetime in the centre's time zone)."""
    calendar = calendar or {}
    periods = list(periods)
    today = at.date()
    now = at.timetz().replace(tzinfo=None)
    intervals = day_intervals(periods, today, closed_days, calendar)
    for start, end in intervals:
        if start <= now < end:
            return OpenState(
                True, "open", at.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
            )
    next_opening = _next_opening(periods, at, closed_days, calendar)
    if today in closed_days or calendar.get(today) == "holiday":
        reason: Literal["break", "closed", "holiday"] = "holiday"
    elif intervals and intervals[0][0] <= now < intervals[-1][1]:
        reason = "break"
    else:
        reason = "closed"
    return OpenState(False, reason, next_opening)


def _next_opening(
    periods: list[Period],
    at: dt.datetime,
    closed_days: frozenset[dt.date],
    calendar: Mapping[dt.date, str],
) -> dt.datetime | None:
    for offset in range(_LOOKAHEAD_DAYS + 1):
        day = at.date() + dt.timedelta(days=offset)
        for start, _end in day_intervals(periods, day, closed_days, calendar):
            candidate = dt.datetime.combine(day, start, tzinfo=at.tzinfo)
            if candidate > at:
                return candidate
    return None
