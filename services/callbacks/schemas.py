"""Request and response bodies of the callbacks API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["pending", "dialling", "done", "failed", "cancelled", "merged", "closed"]
TOPIC_PATTERN = r"^[a-z0-9_]{1,32}$"


class CallbackIn(BaseModel):
    """A callback an operator or supervisor schedules, e.g. at a citizen's request on a call."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Field(
        min_length=1, max_length=40, description="Russian number as written: +7…, 8…, 10 digits"
    )
    topic: str = Field(default="general", pattern=TOPIC_PATTERN)
    language: str = Field(default="ru", pattern=r"^[a-z]{2}$")
    note: str | None = Field(default=None, max_length=1000)
    call_id: str | None = Field(
        default=None, max_length=128, description="The call during which it was asked for"
    )


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(default="cancelled", min_length=1, max_length=200)


class AttemptOut(BaseModel):
    attempt: int
    agent_id: str
    result: str
    at: dt.datetime


class CallbackOut(BaseModel):
    """A callback as staff see it. `caller` is only in the response of one callback (its read
    is audited); lists carry the masked number."""

    callback_id: str
    caller_masked: str
    caller: str | None = None
    topic: str
    language: str
    source: str
    status: Status
    requested_at: dt.datetime
    due_at: dt.datetime | None
    deadline: dt.datetime | None = Field(description="The deadline in force (a retry's own)")
    promised_by: dt.datetime | None = Field(
        description="The deadline first promised, which the on-time figures are judged by"
    )
    first_dialled_at: dt.datetime | None = Field(description="When the citizen's phone first rang")
    overdue: bool = Field(description="Open, never dialled, and past `promised_by`")
    attempts: int
    last_result: str | None
    agent_id: str | None
    call_id: str | None
    note: str | None
    merged_into: str | None
    answered_at: dt.datetime | None
    finished_at: dt.datetime | None
    created_by: str
    variables: dict[str, Any] | None = None
    attempt_log: list[AttemptOut] | None = None


class StatsOut(BaseModel):
    """Figures of the callback promise, computed from the rows at `at`.

    A callback is made on time when the citizen's phone first rings no later than the deadline
    first promised (`promised_by`: 10 minutes from the request, or from opening time for night
    requests); a busy or unanswered first dial counts as made. The ratios count callbacks first
    dialled, those never dialled and open past their promise (late), and those failed without a
    dial, and leave out the cancelled, the merged and those closed because the citizen called
    in; null when none. "Today" is the centre's day of `promised_by`.
    """

    at: dt.datetime
    pending: int
    oldest_pending_age_seconds: float | None
    overdue: int
    on_time_today: int
    counted_today: int
    within_10min_ratio_today: float | None
    on_time_total: int
    counted_total: int
    within_10min_ratio: float | None
    failed_today: int
    failed_total: int
