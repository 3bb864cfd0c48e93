"""Night mode (R1): when the line runs on the auto-attendant, in the centre's own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def minute_of_day(text: str) -> int:
    """Minutes since local midnight of an "HH:MM" time; "24:00" is 1440."""
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"time of day out of range: {text!r}")
    return value


class Window(BaseModel):
    """A half-open local-time window ``[start, end)``, "HH:MM" strings; "24:00" ends the day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        minute_of_day(value)
        return value

    def contains(self, minute: int) -> bool:
        return minute_of_day(self.start) <= minute < minute_of_day(self.end)


DEFAULT_NIGHT = (Window(start="00:00", end="06:00"),)


class NightSchedule(BaseModel):
    """Default 00:00-06:00 every day; per-weekday windows, holidays (whole day by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    timezone: str = "Asia/Novokuznetsk"
    default: tuple[Window, ...] = DEFAULT_NIGHT
    weekdays: dict[str, tuple[Window, ...]] = {}
    holidays: tuple[date, ...] = ()
    holiday_windows: tuple[Window, ...] = (Window(start="00:00", end="24:00"),)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @field_validator("weekdays")
    @classmethod
    def _known_days(cls, value: dict[str, tuple[Window, ...]]) -> dict[str, tuple[Window, ...]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {', '.join(WEEKDAYS)}")
        return value

    def windows_for(self, day: date) -> tuple[Window, ...]:
        if day in self.holidays:
            return self.holiday_windows
        return self.weekdays.get(WEEKDAYS[day.weekday()], self.default)

    def is_night(self, now: float) -> bool:
        """Whether ``now`` (Unix seconds, UTC) falls in a night window of the local day."""
        if not self.enabled:
            return False
        local = datetime.fromtimestamp(now, _zone(self.timezone))
        minute = local.hour * 60 + local.minute
        return any(w.contains(minute) for w in self.windows_for(local.date()))


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


_SEARCH_DAYS = 400
"""How far ahead the opening-time helpers look before giving up (a year of holidays)."""


def _local_at(day: date, minute: int, zone: ZoneInfo) -> float:
    """Unix time of ``minute`` (0..1440) into the local ``day``; 1440 is the next midnight."""
    base = datetime(day.year, day.month, day.day, tzinfo=zone)
    return (base + timedelta(minutes=minute)).timestamp() if minute else base.timestamp()


def next_opening(schedule: NightSchedule, now: float) -> float:
    """The first moment at or after ``now`` that is not in a night window (``now`` if day)."""
    if not schedule.enabled:
        return now
    zone = _zone(schedule.timezone)
    t = now
    for _ in range(_SEARCH_DAYS * 4):
        local = datetime.fromtimestamp(t, zone)
        minute = local.hour * 60 + local.minute
        windows = schedule.windows_for(local.date())
        ends = [minute_of_day(w.end) for w in windows if w.contains(minute)]
        if not ends:
            return t
        t = max(t, _local_at(local.date(), max(ends), zone))
    raise ValueError("night schedule never opens")


def next_allowed(hours: tuple[str, str], timezone: str, now: float) -> float:
    """The first moment at or after ``now`` inside the daily ``hours`` window ("HH:MM" pair)."""
    start, end = minute_of_day(hours[0]), minute_of_day(hours[1])
    zone = _zone(timezone)
    local = datetime.fromtimestamp(now, zone)
    minute = local.hour * 60 + local.minute
    if start <= minute < end:
        return now
    day = local.date() if minute < start else local.date() + timedelta(days=1)
    return _local_at(day, start, zone)


def callback_due_from(
    schedule: NightSchedule, hours: tuple[str, str], requested_at: float, night: bool
) -> float:
    """When a callback requested at ``requested_at`` may first be dialled.

    A request left in night mode waits for the next opening; any request also waits for the
    hours when citizens may be called. Its deadline counts from this moment.
    """
    t = next_opening(schedule, requested_at) if night else requested_at
    for _ in range(_SEARCH_DAYS):
        allowed = next_allowed(hours, schedule.timezone, t)
        if not night:
            return allowed
        opened = next_opening(schedule, allowed)
        if opened == allowed:
            return allowed
        t = opened
    raise ValueError("callback hours never meet opening hours")
