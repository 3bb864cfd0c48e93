"""Opening hours: open now, breaks, holidays, shortened days, next opening."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from services.directory.hours import Period, open_state

TZ = ZoneInfo("Asia/Novokuznetsk")
WEEKDAYS_9_TO_18 = [
    Period(day, dt.time(9), dt.time(18), dt.time(13), dt.time(14)) for day in range(5)
]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


def test_open_during_hours_until_the_break() -> None:
    state = open_state(WEEKDAYS_9_TO_18, at("2026-12-01T10:30"))  # a Tuesday
    assert state.is_open and state.reason == "open"
    assert state.changes_at == at("2026-12-01T13:00")


def test_closed_for_the_break_and_reopens_after_it() -> None:
    state = open_state(WEEKDAYS_9_TO_18, at("2026-12-01T13:20"))
    assert not state.is_open and state.reason == "break"
    assert state.changes_at == at("2026-12-01T14:00")


def test_closing_time_itself_is_closed() -> None:
    state = open_state(WEEKDAYS_9_TO_18, at("2026-12-01T18:00"))
    assert not state.is_open and state.reason == "closed"
    assert state.changes_at == at("2026-12-02T09:00")


def test_friday_evening_reopens_on_monday() -> None:
    state = open_state(WEEKDAYS_9_TO_18, at("2026-12-04T19:00"))
    assert state.changes_at == at("2026-12-07T09:00")


def test_public_holiday_closes_and_the_next_working_day_opens() -> None:
    calendar = {dt.date(2027, 1, d): "holiday" for d in range(1, 9)}
    state = open_state(WEEKDAYS_9_TO_18, at("2027-01-05T11:00"), calendar=calendar)
    assert not state.is_open and state.reason == "holiday"
    assert state.changes_at == at("2027-01-11T09:00")


def test_office_day_off_closes_it() -> None:
    state = open_state(
        WEEKDAYS_9_TO_18, at("2027-01-29T11:00"), closed_days=frozenset({dt.date(2027, 1, 29)})
    )
    assert not state.is_open and state.reason == "holiday"


def test_shortened_pre_holiday_day_closes_an_hour_early() -> None:
    calendar = {dt.date(2027, 2, 22): "shortened"}
    open_at_16 = open_state(WEEKDAYS_9_TO_18, at("2027-02-22T16:59"), calendar=calendar)
    assert open_at_16.is_open and open_at_16.changes_at == at("2027-02-22T17:00")
    assert not open_state(WEEKDAYS_9_TO_18, at("2027-02-22T17:00"), calendar=calendar).is_open


def test_no_hours_at_all_never_opens() -> None:
    state = open_state([], at("2026-12-01T10:00"))
    assert not state.is_open and state.changes_at is None


@given(
    moment=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 1, 1)).map(
        lambda d: d.replace(tzinfo=TZ)
    ),
    holidays=st.frozensets(st.dates(dt.date(2026, 1, 1), dt.date(2028, 1, 1)), max_size=20),
)
def test_state_changes_in_the_future_and_agrees_with_itself(
    moment: dt.datetime, holidays: frozenset[dt.date]
) -> None:
    state = open_state(WEEKDAYS_9_TO_18, moment, closed_days=holidays)
    if state.changes_at is not None:
        assert state.changes_at > moment.replace(second=0, microsecond=0) or state.is_open
        just_before = state.changes_at - dt.timedelta(seconds=1)
        if just_before > moment:
            assert open_state(WEEKDAYS_9_TO_18, just_before, closed_days=holidays).is_open == (
                state.is_open
            )
        after = open_state(WEEKDAYS_9_TO_18, state.changes_at, closed_days=holidays)
        assert after.is_open != state.is_open
    if state.is_open:
        assert moment.date() not in holidays and moment.weekday() < 5
