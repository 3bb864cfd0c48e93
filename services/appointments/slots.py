"""Slot generation and free capacity: pure functions over plain data, no database, no clock.

An office's day is cut into a grid of `slot_minutes` cells starting at each open interval's
beginning; a visit of a service takes `ceil(duration / slot_minutes)` consecutive cells of one
resource (a window or a specialist) and must fit inside one open interval.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from services.directory.hours import Period, day_intervals

Interval = tuple[dt.time, dt.time]


@dataclass(frozen=True, slots=True)
class OfficeSchedule:
    """Everything that decides an office's slots, as plain data.

    `exceptions` maps a date to its own booking hours (an empty tuple: closed); an exception
    wins over the weekly hours and the holiday calendar, since an administrator set it for that
    very date (a working Saturday, a sanitary day)."""

    periods: tuple[Period, ...]
    slot_minutes: int
    closed_days: frozenset[dt.date] = frozenset()
    exceptions: Mapping[dt.date, tuple[Interval, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A bookable time of a service: aware datetimes in the centre's time zone."""

    starts_at: dt.datetime
    ends_at: dt.datetime

    def cells(self, slot_minutes: int) -> tuple[dt.datetime, ...]:
        """The grid cells this visit occupies (as UTC instants)."""
        step = dt.timedelta(minutes=slot_minutes)
        count = cells_needed(
            int((self.ends_at - self.starts_at).total_seconds() // 60), slot_minutes
        )
        start = self.starts_at.astimezone(dt.UTC)
        return tuple(start + step * i for i in range(count))


def cells_needed(duration_minutes: int, slot_minutes: int) -> int:
    """How many grid cells a visit of `duration_minutes` takes."""
    return max(1, math.ceil(duration_minutes / slot_minutes))


def open_intervals(
    schedule: OfficeSchedule, day: dt.date, calendar: Mapping[dt.date, str]
) -> list[Interval]:
    """The booking hours of one date: an exception if any, else the weekly hours after
    holidays, days off and shortened pre-holiday days (the directory's own rules)."""
    if day in schedule.exceptions:
        return sorted(schedule.exceptions[day])
    return day_intervals(schedule.periods, day, schedule.closed_days, calendar)


def day_slots(
    schedule: OfficeSchedule,
    day: dt.date,
    calendar: Mapping[dt.date, str],
    *,
    duration_minutes: int,
    tz: ZoneInfo,
) -> list[Slot]:
    """Every slot of a service on one date, in order."""
    step = dt.timedelta(minutes=schedule.slot_minutes)
    length = step * cells_needed(duration_minutes, schedule.slot_minutes)
    slots: list[Slot] = []
    for opens, closes in open_intervals(schedule, day, calendar):
        start = dt.datetime.combine(day, opens, tzinfo=tz)
        end = dt.datetime.combine(day, closes, tzinfo=tz)
        while start + length <= end:
            slots.append(Slot(start, start + length))
            start += step
    return slots


def slots_between(
    schedule: OfficeSchedule,
    first_day: dt.date,
    days: int,
    calendar: Mapping[dt.date, str],
    *,
    duration_minutes: int,
    tz: ZoneInfo,
    after: dt.datetime | None = None,
) -> list[Slot]:
    """Slots of `days` consecutive dates from `first_day`, only those starting after `after`."""
    slots = [
        slot
        for offset in range(days)
        for slot in day_slots(
            schedule,
            first_day + dt.timedelta(days=offset),
            calendar,
            duration_minutes=duration_minutes,
            tz=tz,
        )
    ]
    return [slot for slot in slots if after is None or slot.starts_at > after]


def free_resources(
    slot: Slot,
    resources: Sequence[int],
    taken: frozenset[tuple[int, dt.datetime]],
    slot_minutes: int,
) -> list[int]:
    """The resources none of whose cells for this slot are taken (taken: (resource, UTC cell))."""
    cells = slot.cells(slot_minutes)
    return [r for r in resources if not any((r, cell) in taken for cell in cells)]


def with_capacity(
    slots: Iterable[Slot],
    resources: Sequence[int],
    taken: frozenset[tuple[int, dt.datetime]],
    slot_minutes: int,
) -> list[tuple[Slot, int]]:
    """Each slot with its number of free resources, dropping the full ones."""
    counted = ((slot, len(free_resources(slot, resources, taken, slot_minutes))) for slot in slots)
    return [(slot, free) for slot, free in counted if free > 0]
