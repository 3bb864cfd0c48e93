"""Slot generation as a pure function: holidays, shortened days, breaks, exceptions, capacity."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.appointments.slots import (
    OfficeSchedule,
    Slot,
    cells_needed,
    day_slots,
    slots_between,
    with_capacity,
)
from services.directory.hours import Period

TZ = ZoneInfo("Asia/Novokuznetsk")
WEEKDAYS_9_18 = tuple(
    Period(day, dt.time(9), dt.time(18), dt.time(13), dt.time(14)) for day in range(5)
)
# 2026-12-30 is a Wednesday: shortened pre-holiday day; 12-31 a holiday; 2027-01-04 a Monday.
CALENDAR = {dt.date(2026, 12, 30): "shortened", dt.date(2026, 12, 31): "holiday"}


def schedule(**changes: object) -> OfficeSchedule:
    base: dict[str, object] = {"periods": WEEKDAYS_9_18, "slot_minutes": 15}
    base.update(changes)
    return OfficeSchedule(**base)  # type: ignore[arg-type]


def test_ordinary_day_has_morning_and_afternoon_slots() -> None:
    slots = day_slots(schedule(), dt.date(2026, 12, 29), CALENDAR, duration_minutes=30, tz=TZ)
    starts = [s.starts_at.time() for s in slots]
    assert starts[0] == dt.time(9) and starts[-1] == dt.time(17, 30)
    assert dt.time(12, 30) in starts and dt.time(12, 45) not in starts  # would cross the break
    assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=30) for s in slots)
    assert all(s.starts_at.tzinfo is TZ for s in slots)


def test_shortened_day_closes_an_hour_earlier_and_holiday_has_none() -> None:
    days = slots_between(schedule(), dt.date(2026, 12, 29), 7, CALENDAR, duration_minutes=15, tz=TZ)
    by_day: dict[dt.date, list[Slot]] = {}
    for slot in days:
        by_day.setdefault(slot.starts_at.date(), []).append(slot)
    assert by_day[dt.date(2026, 12, 29)][-1].ends_at.time() == dt.time(18)
    assert by_day[dt.date(2026, 12, 30)][-1].ends_at.time() == dt.time(17)
    assert dt.date(2026, 12, 31) not in by_day
    assert dt.date(2027, 1, 2) not in by_day  # Saturday: no weekly hours
    assert dt.date(2027, 1, 4) in by_day


def test_exception_overrides_weekly_hours_and_calendar() -> None:
    office = schedule(
        exceptions={
            dt.date(2026, 12, 29): (),
            dt.date(2026, 12, 31): ((dt.time(10), dt.time(12)),),
        },
        closed_days=frozenset({dt.date(2027, 1, 4)}),
    )
    slots = slots_between(office, dt.date(2026, 12, 29), 7, CALENDAR, duration_minutes=60, tz=TZ)
    days = {s.starts_at.date() for s in slots}
    assert dt.date(2026, 12, 29) not in days
    assert [s.starts_at.time() for s in slots if s.starts_at.date() == dt.date(2026, 12, 31)] == [
        dt.time(10),
        dt.time(10, 15),
        dt.time(10, 30),
        dt.time(10, 45),
        dt.time(11),
    ]
    assert dt.date(2027, 1, 4) not in days


def test_after_drops_past_slots() -> None:
    cut = dt.datetime(2026, 12, 29, 12, 0, tzinfo=TZ)
    slots = slots_between(
        schedule(), dt.date(2026, 12, 29), 1, {}, duration_minutes=15, tz=TZ, after=cut
    )
    assert slots and all(s.starts_at > cut for s in slots)


def test_capacity_counts_windows_whose_cells_are_all_free() -> None:
    slot = Slot(
        dt.datetime(2026, 12, 29, 9, tzinfo=TZ), dt.datetime(2026, 12, 29, 9, 30, tzinfo=TZ)
    )
    first, second = slot.cells(15)
    assert with_capacity([slot], [1, 2, 3], frozenset(), 15) == [(slot, 3)]
    assert with_capacity([slot], [1, 2, 3], frozenset({(1, second), (2, first)}), 15) == [(slot, 1)]
    full = frozenset({(1, first), (2, first), (3, second)})
    assert with_capacity([slot], [1, 2, 3], full, 15) == []


times = st.integers(min_value=6 * 4, max_value=21 * 4).map(
    lambda quarter: dt.time(quarter // 4, (quarter % 4) * 15)
)


@st.composite
def periods(draw: st.DrawFn) -> Period:
    opens, closes = sorted(draw(st.lists(times, min_size=2, max_size=2, unique=True)))
    weekday = draw(st.integers(0, 6))
    minutes = (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
    if minutes >= 90 and draw(st.booleans()):
        start = opens.hour * 60 + opens.minute + 30
        return Period(
            weekday,
            opens,
            closes,
            dt.time(start // 60, start % 60),
            dt.time((start + 30) // 60, (start + 30) % 60),
        )
    return Period(weekday, opens, closes)


@given(
    period=periods(),
    slot_minutes=st.sampled_from([5, 10, 15, 20, 30, 60]),
    duration=st.integers(5, 180),
    day_offset=st.integers(0, 13),
    kind=st.sampled_from([None, "shortened", "holiday"]),
)
def test_slots_lie_inside_open_hours_on_the_grid(
    period: Period, slot_minutes: int, duration: int, day_offset: int, kind: str | None
) -> None:
    day = dt.date(2027, 3, 1) + dt.timedelta(days=day_offset)
    calendar = {day: kind} if kind else {}
    office = OfficeSchedule(periods=(period,), slot_minutes=slot_minutes)
    slots = day_slots(office, day, calendar, duration_minutes=duration, tz=TZ)
    if kind == "holiday" or day.weekday() != period.weekday:
        assert slots == []
        return
    closes = dt.datetime.combine(day, period.closes, tzinfo=TZ)
    if kind == "shortened":
        closes -= dt.timedelta(hours=1)
    length = dt.timedelta(minutes=slot_minutes * cells_needed(duration, slot_minutes))
    opens = dt.datetime.combine(day, period.opens, tzinfo=TZ)
    for slot in slots:
        assert slot.ends_at - slot.starts_at == length >= dt.timedelta(minutes=duration)
        assert opens <= slot.starts_at and slot.ends_at <= closes
        if period.break_start and period.break_end:
            brk_start = dt.datetime.combine(day, period.break_start, tzinfo=TZ)
            brk_end = dt.datetime.combine(day, period.break_end, tzinfo=TZ)
            assert slot.ends_at <= brk_start or slot.starts_at >= brk_end
            grid_origin = opens if slot.starts_at < brk_start else brk_end
        else:
            grid_origin = opens
        assert (slot.starts_at - grid_origin) % dt.timedelta(minutes=slot_minutes) == dt.timedelta()
    assert slots == sorted(slots) and len(set(slots)) == len(slots)


@given(
    duration=st.integers(5, 240),
    slot_minutes=st.sampled_from([5, 10, 15, 30]),
)
def test_a_visit_takes_enough_cells(duration: int, slot_minutes: int) -> None:
    cells = cells_needed(duration, slot_minutes)
    assert cells * slot_minutes >= duration > (cells - 1) * slot_minutes
