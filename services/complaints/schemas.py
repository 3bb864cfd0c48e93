"""Request and response bodies of the complaints API."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.directory.schemas import Email, Url

Channel = Literal["webhook", "email", "inbox"]
Source = Literal["call", "voicemail", "api"]
Action = Literal["acknowledge", "answer", "redirect", "close"]

PHONE_PATTERN = r"^\+?[0-9]{10,15}$"
#: A recording's file name inside the recordings folder: no folders, no leading dot.
RECORDING_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$"
VOICEMAIL_TEXT = "Голосовое сообщение: текст в записи."


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ComplaintIn(_In):
    """A complaint as the operator, the voice menu or another system registers it."""

    source: Source = "call"
    service_code: str | None = Field(default=None, max_length=64)
    municipality: str | None = Field(default=None, max_length=100)
    agency_code: str | None = Field(
        default=None, max_length=64, description="The responsible office, overriding the lookup"
    )
    citizen_name: str | None = Field(default=None, max_length=200)
    phone: str = Field(pattern=PHONE_PATTERN, description="Caller's phone, digits only")
    email: Email | None = None
    text: str = Field(default="", max_length=10_000)
    recording: str | None = Field(default=None, pattern=RECORDING_PATTERN)

    @model_validator(mode="after")
    def _text_or_recording(self) -> ComplaintIn:
        if self.source == "voicemail" and self.recording is None:
            raise ValueError("a voice message needs its recording")
        if not self.text:
            if self.recording is None:
                raise ValueError("text is required")
            self.text = VOICEMAIL_TEXT
        return self


class TimelineEntry(BaseModel):
    event: str
    at: dt.datetime
    actor: str | None = None
    note: str | None = None


class ComplaintOut(BaseModel):
    """A complaint as staff see it; the personal fields are null for roles that may not see them."""

    number: str
    status: str
    source: str
    agency_code: str
    agency_name: str
    agency_chosen_by: str
    service_code: str | None
    municipality: str | None
    ack_due: dt.datetime
    answer_due: dt.datetime
    ack_overdue: bool
    answer_overdue: bool
    created_at: dt.datetime
    personal_data_shown: bool
    citizen_name: str | None = None
    phone: str | None = None
    email: str | None = None
    text: str | None = None
    recording: str | None = None
    answer: str | None = None
    timeline: list[TimelineEntry] = []


class RegisteredOut(BaseModel):
    number: str
    status: str
    agency_code: str
    agency_name: str
    ack_due: dt.datetime
    answer_due: dt.datetime
    spoken: str = Field(description="What to tell the caller")


class ResponsibleOut(BaseModel):
    agency_code: str
    agency_name: str
    reason: str


class ActionIn(_In):
    action: Action
    comment: str | None = Field(default=None, max_length=10_000)
    agency_code: str | None = Field(default=None, max_length=64, description="For redirect")


class PublicStatusIn(_In):
    number: str = Field(pattern=r"^[0-9]{9}$")
    phone_last4: str = Field(pattern=r"^[0-9]{4}$")


class PublicEntry(BaseModel):
    event: str
    at: dt.datetime


class PublicStatusOut(BaseModel):
    """Only the timeline: no text, no agency staff, no personal data."""

    number: str
    status: str
    overdue: bool
    timeline: list[PublicEntry]
    spoken: str


class ChannelIn(_In):
    channel: Channel
    webhook_url: Url | None = None
    email: Email | None = None
    ack_hours: int | None = Field(default=None, ge=1, le=24 * 30)
    answer_days: int | None = Field(default=None, ge=1, le=365)
    new_secret: bool = Field(
        default=False, description="Generate a new webhook secret (always on first setup)"
    )

    @model_validator(mode="after")
    def _endpoint_given(self) -> ChannelIn:
        if self.channel == "webhook" and self.webhook_url is None:
            raise ValueError("a webhook channel needs webhook_url")
        if self.channel == "email" and self.email is None:
            raise ValueError("an email channel needs email")
        return self


class ChannelOut(BaseModel):
    agency_code: str
    channel: Channel
    webhook_url: str | None
    email: str | None
    ack_hours: int | None
    answer_days: int | None
    has_secret: bool
    secret: str | None = Field(
        default=None, description="Shown once, when generated; store it in the receiver"
    )


class OutboxOut(BaseModel):
    id: int
    kind: str
    complaint_number: str | None
    notice_id: int | None
    agency_code: str
    channel: str
    endpoint: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
