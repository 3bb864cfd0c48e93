"""Night mode (R1): when the line runs on the auto-attendant, in the centre's own time zone."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _minutes(text: str) -> int:
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
        _minutes(value)
        return value

    def contains(self, minute_of_day: int) -> bool:
        return _minutes(self.start) <= minute_of_day < _minutes(self.end)


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
