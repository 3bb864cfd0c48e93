"""Pure rules of complaint handling: deadlines, overdue checks, transitions and retry backoff.

No I/O and no clock: the current time and randomness are passed in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

#: Who may move a complaint on, and from which statuses.
ACTIONS: dict[str, tuple[str, ...]] = {
    "acknowledge": ("forwarded", "delivered"),
    "answer": ("forwarded", "delivered", "acknowledged"),
    "redirect": ("registered", "forwarded", "delivered", "acknowledged"),
    "close": ("registered", "forwarded", "delivered", "acknowledged", "answered"),
}
#: The status each action leads to (a redirect forwards the complaint anew).
RESULT = {
    "acknowledge": "acknowledged",
    "answer": "answered",
    "redirect": "forwarded",
    "close": "closed",
}
#: Statuses past which acknowledgement is no longer awaited.
_ACKNOWLEDGED = ("acknowledged", "answered", "closed")


class ActionRefused(Exception):
    """The action is not allowed from the complaint's current status."""

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"{action} from {status}")
        self.action, self.status, self.allowed_from = action, status, ACTIONS[action]


def next_status(status: str, action: str) -> str:
    """The status after `action`, or `ActionRefused`."""
    if status not in ACTIONS[action]:
        raise ActionRefused(action, status)
    return RESULT[action]


@dataclass(frozen=True, slots=True)
class Deadlines:
    ack_due: dt.datetime
    answer_due: dt.datetime


def deadlines(registered_at: dt.datetime, *, ack_hours: int, answer_days: int) -> Deadlines:
    """When the agency must acknowledge and answer a complaint registered at `registered_at`."""
    return Deadlines(
        ack_due=registered_at + dt.timedelta(hours=ack_hours),
        answer_due=registered_at + dt.timedelta(days=answer_days),
    )


@dataclass(frozen=True, slots=True)
class DeadlineState:
    status: str
    ack_due: dt.datetime
    answer_due: dt.datetime
    ack_overdue: bool
    answer_overdue: bool


def newly_overdue(state: DeadlineState, now: dt.datetime) -> tuple[str, ...]:
    """Deadlines ("acknowledgement", "answer") missed at `now` and not yet recorded as missed."""
    if state.status == "closed":
        return ()
    missed: list[str] = []
    if not state.ack_overdue and state.status not in _ACKNOWLEDGED and now > state.ack_due:
        missed.append("acknowledgement")
    if not state.answer_overdue and state.status != "answered" and now > state.answer_due:
        missed.append("answer")
    return tuple(missed)


def backoff_delay(attempt: int, *, base: float, cap: float, random: Callable[[], float]) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential growth
    capped at `cap`, with "equal jitter" so retries of many messages spread out but never
    come back sooner than half the exponential step."""
    step = min(cap, base * 2.0 ** (attempt - 1))
    return step / 2 + random() * step / 2


def last_digits(phone: str, count: int = 4) -> str:
    """The last digits of a phone number: the caller's second factor for the public status."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-count:]
