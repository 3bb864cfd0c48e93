"""The pure rules: deadlines, overdue detection, transitions, backoff and signatures."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.complaints.policy import (
    ActionRefused,
    DeadlineState,
    backoff_delay,
    deadlines,
    last_digits,
    newly_overdue,
    next_status,
)
from services.complaints.signing import signature, verify

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _state(status: str, *, ack: bool = False, answer: bool = False) -> DeadlineState:
    due = deadlines(T0, ack_hours=24, answer_days=30)
    return DeadlineState(status, due.ack_due, due.answer_due, ack, answer)


def test_deadlines_count_from_registration() -> None:
    due = deadlines(T0, ack_hours=8, answer_days=30)
    assert due.ack_due == T0 + dt.timedelta(hours=8)
    assert due.answer_due == T0 + dt.timedelta(days=30)


def test_overdue_is_reported_once_per_deadline() -> None:
    before, after_ack = T0 + dt.timedelta(hours=23), T0 + dt.timedelta(hours=25)
    after_all = T0 + dt.timedelta(days=31)
    assert newly_overdue(_state("delivered"), before) == ()
    assert newly_overdue(_state("delivered"), after_ack) == ("acknowledgement",)
    assert newly_overdue(_state("delivered", ack=True), after_ack) == ()
    assert newly_overdue(_state("delivered", ack=True), after_all) == ("answer",)
    assert newly_overdue(_state("acknowledged"), after_all) == ("answer",)
    assert newly_overdue(_state("answered"), after_all) == ()
    assert newly_overdue(_state("closed"), after_all) == ()


def test_transitions_follow_the_lifecycle() -> None:
    assert next_status("delivered", "acknowledge") == "acknowledged"
    assert next_status("acknowledged", "answer") == "answered"
    assert next_status("acknowledged", "redirect") == "forwarded"
    assert next_status("answered", "close") == "closed"
    with pytest.raises(ActionRefused) as refused:
        next_status("closed", "answer")
    assert refused.value.allowed_from == ("forwarded", "delivered", "acknowledged")
    with pytest.raises(ActionRefused):
        next_status("answered", "redirect")


@given(attempt=st.integers(1, 40), draw=st.floats(0, 1))
def test_backoff_grows_within_bounds(attempt: int, draw: float) -> None:
    delay = backoff_delay(attempt, base=2.0, cap=600.0, random=lambda: draw)
    step = min(600.0, 2.0 * 2 ** (attempt - 1))
    assert step / 2 <= delay <= step


def test_backoff_jitter_spreads_retries() -> None:
    low = backoff_delay(4, base=1.0, cap=100.0, random=lambda: 0.0)
    high = backoff_delay(4, base=1.0, cap=100.0, random=lambda: 1.0)
    assert (low, high) == (4.0, 8.0)


def test_signature_binds_body_time_and_secret() -> None:
    body = b'{"number":"123456789"}'
    good = signature("s3cret", 1_700_000_000, body)
    assert verify("s3cret", timestamp="1700000000", body=body, received=good, now=1_700_000_010)
    assert not verify("other", timestamp="1700000000", body=body, received=good, now=1_700_000_010)
    assert not verify(
        "s3cret", timestamp="1700000000", body=body + b" ", received=good, now=1_700_000_010
    )
    assert not verify("s3cret", timestamp="1700000000", body=body, received=good, now=1_700_009_999)


def test_last_digits_ignore_formatting() -> None:
    assert last_digits("+7 (923) 555-12-34") == "1234"
