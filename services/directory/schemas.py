"""Request and response bodies of the directory service; the JSON import uses them too."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.directory.hours import WEEKDAYS

Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()\-]{5,30}$")]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.\w+$")
]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://\S+$")
]
Kind = Literal[
    "mfc",
    "social_protection",
    "migration",
    "pension_fund",
    "rosreestr",
    "tax",
    "civil_registry",
    "employment",
    "housing",
    "healthcare",
    "administration",
]
Topic = Literal[
    "mfc", "social", "passports", "health", "housing", "status", "complaints", "techhelp"
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class Interval(BaseModel):
    """One opening period of a day, times in the centre's time zone."""

    open: dt.time
    close: dt.time
    break_start: dt.time | None = None
    break_end: dt.time | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Interval:
        if self.open >= self.close:
            raise ValueError("open must be before close")
        if (self.break_start is None) != (self.break_end is None):
            raise ValueError("break_start and break_end go together")
        if (
            self.break_start
            and self.break_end
            and not (self.open < self.break_start < self.break_end < self.close)
        ):
            raise ValueError("the break must lie inside the opening period")
        return self


class ServiceIn(BaseModel):
    code: Code
    name: Text
    topic: Topic


class ServiceOut(ServiceIn):
    model_config = ConfigDict(from_attributes=True)


class AgencyIn(BaseModel):
    """An office as an administrator writes it; hours by weekday, absent days are closed."""

    code: Code
    name: Text
    kind: Kind
    municipality: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    address: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    email: Email | None = None
    website: Url | None = None
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    hours: dict[Weekday, list[Interval]] = Field(default_factory=dict)
    holidays: list[dt.date] = Field(default_factory=list, max_length=400)
    services: list[Code] = Field(default_factory=list, max_length=200)


class OpenNow(BaseModel):
    is_open: bool
    reason: Literal["open", "break", "closed", "holiday"]
    changes_at: dt.datetime | None = Field(description="When it closes if open, else next opening")


class AgencyOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    municipality: str
    address: str
    phones: list[str]
    email: str | None
    website: str | None
    notes: str | None
    hours: dict[str, list[Interval]]
    holidays: list[dt.date]
    services: list[ServiceOut]
    open_now: OpenNow


class MunicipalityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class DirectoryFile(BaseModel):
    """The JSON import format: services first, then agencies referring to them by code."""

    sample_data: bool = False
    note: str | None = None
    services: list[ServiceIn] = Field(default_factory=list, max_length=5000)
    agencies: list[AgencyIn] = Field(default_factory=list, max_length=20000)


class ImportReport(BaseModel):
    services_created: int
    services_updated: int
    agencies_created: int
    agencies_updated: int


def empty_week() -> dict[str, list[Interval]]:
    """Every weekday present with no periods, so clients see closed days explicitly."""
    return {day: [] for day in WEEKDAYS}
