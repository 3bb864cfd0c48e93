"""Request and response bodies of the appointments service."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from services.directory.schemas import Code, Email, Phone

Form = Literal["in_person", "phone", "video"]
Kind = Literal["appointment", "consultation"]
Channel = Literal["operator", "ivr", "api"]
Status = Literal["booked", "cancelled", "attended", "no_show"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Url = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://\S+$")
]


class HoursIn(BaseModel):
    """Booking hours of one exceptional date; no hours close the office that day."""

    day: dt.date
    opens: dt.time | None = None
    closes: dt.time | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @model_validator(mode="after")
    def _ordered(self) -> HoursIn:
        if (self.opens is None) != (self.closes is None):
            raise ValueError("opens and closes go together")
        if self.opens and self.closes and self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self


class ScheduleIn(BaseModel):
    """What an administrator sets for an office; weekly hours come from the directory."""

    slot_minutes: int = Field(default=15, ge=5, le=120)
    windows: int = Field(ge=0, le=50, description="Service windows serving visits at once")
    durations: dict[Code, Annotated[int, Field(ge=5, le=480)]] = Field(
        description="Minutes per visit by service code; only these services are bookable"
    )
    specialists: list[Name] = Field(default_factory=list, max_length=100)
    exceptions: list[HoursIn] = Field(default_factory=list, max_length=400)
    external_url: Url | None = Field(
        default=None, description="The office's own MFC queue system, if it keeps the bookings"
    )


class ResourceOut(BaseModel):
    id: int
    kind: Literal["window", "specialist"]
    label: str


class ScheduleOut(BaseModel):
    office: str
    slot_minutes: int
    durations: dict[str, int]
    resources: list[ResourceOut]
    exceptions: list[HoursIn]
    external_url: str | None


class SlotOut(BaseModel):
    office: str
    office_name: str
    address: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int = Field(description="Windows or specialists still free at that time")


class NearestOut(BaseModel):
    """The earliest options across a municipality, and offices whose systems did not answer."""

    slots: list[SlotOut]
    unavailable: list[str] = Field(
        default_factory=list, description="Operator-facing notes on offices that were skipped"
    )


class CitizenIn(BaseModel):
    """Only what the booking needs; any of it requires the citizen's consent."""

    name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None


class BookingIn(BaseModel):
    office: Code
    service: Code
    starts_at: AwareDatetime
    kind: Kind = "appointment"
    form: Form = "in_person"
    specialist_id: int | None = None
    channel: Channel = "operator"
    citizen: CitizenIn = Field(default_factory=CitizenIn)
    consent: bool = Field(
        default=False, description="The citizen agreed to the processing of the data given"
    )

    @model_validator(mode="after")
    def _consistent(self) -> BookingIn:
        has_data = any((self.citizen.name, self.citizen.phone, self.citizen.email))
        if has_data and not self.consent:
            raise ValueError("personal data can be stored only with the citizen's consent")
        if self.kind == "appointment" and (self.form != "in_person" or self.specialist_id):
            raise ValueError("an appointment is in person at a window; use kind=consultation")
        return self


class RescheduleIn(BaseModel):
    starts_at: AwareDatetime
    specialist_id: int | None = None


class AttendanceIn(BaseModel):
    attended: bool


class CitizenOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    consent_at: dt.datetime | None


class BookingOut(BaseModel):
    id: int
    code: str = Field(description="Six digits the caller can say or key in")
    office: str
    office_name: str
    address: str
    service: str
    service_name: str
    kind: Kind
    form: Form
    channel: Channel
    status: Status
    starts_at: dt.datetime
    ends_at: dt.datetime
    resource: str | None = Field(description="Window or specialist")
    citizen: CitizenOut | None = Field(
        description="Present only for roles that work with the citizen; each read is audited"
    )
    message: str = Field(description="What to tell the caller, in Russian")
