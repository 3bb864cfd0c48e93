"""The figures of the callback promise against callbacks with known times, in the centre's
time zone (its day is not the UTC day)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.callbacks.models import Callback
from services.callbacks.service import day_bounds, stats

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Novokuznetsk")  # UTC+7
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=TZ)


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=TZ)


def row(centre: str, status: str, promised: dt.datetime, **times: Any) -> Callback:
    """A callback first promised by `promised`; its deadline in force is the same unless a
    retry moved it (`deadline=`)."""
    requested = times.pop("requested_at", promised - dt.timedelta(minutes=10))
    return Callback(
        centre=centre,
        callback_id=f"cb-{secrets.token_hex(5)}",
        caller="+79130000000",
        topic="general",
        source="queue",
        status=status,
        requested_at=requested,
        due_at=requested,
        deadline=times.pop("deadline", promised),
        promised_by=promised,
        attempts=1,
        variables={},
        created_by="router",
        created_at=requested,
        updated_at=requested,
        **times,
    )


async def test_figures_from_rows_with_known_times(
    sessions: async_sessionmaker[AsyncSession], centre: str
) -> None:
    """On time = the citizen's phone first rang by the first promise, whatever came after."""
    rows = [
        # Today (local). First rang by the promise: on time.
        row(centre, "done", local(15, 9), first_dialled_at=local(15, 8, 52)),
        # First rang on time, busy; the citizen answered the retry after the retry's own
        # deadline: still on time (the promise is judged at the first ring).
        row(
            centre,
            "done",
            local(15, 9, 30),
            first_dialled_at=local(15, 9, 28),
            deadline=local(15, 9, 50),
            answered_at=local(15, 9, 52),
        ),
        # First rang four minutes after the promise: late, though answered at once.
        row(centre, "done", local(15, 9, 40), first_dialled_at=local(15, 9, 44)),
        # Failed after all attempts, the first on time: made on time all the same.
        row(
            centre,
            "failed",
            local(15, 8),
            first_dialled_at=local(15, 7, 55),
            finished_at=local(15, 8, 30),
        ),
        # Failed without ever ringing the citizen: late.
        row(centre, "failed", local(15, 8, 20), finished_at=local(15, 8, 40)),
        # Open and never dialled past the promise: overdue, late.
        row(centre, "pending", local(15, 9, 50)),
        # A night request from 22:00 yesterday, promised from opening: the oldest, overdue.
        row(centre, "pending", local(15, 8, 10), requested_at=local(14, 22)),
        # The operator's seat rings for it, the citizen's phone not yet: overdue, late.
        row(centre, "dialling", local(15, 9, 58), agent_id="op2"),
        # Dialled on time and waiting for its retry past the retry's deadline: on time.
        row(
            centre,
            "pending",
            local(15, 9, 25),
            first_dialled_at=local(15, 9, 20),
            deadline=local(15, 9, 55),
        ),
        # 01:00 local today is still yesterday in UTC: counted today all the same.
        row(centre, "done", local(15, 1), first_dialled_at=local(15, 0, 58)),
        # Dialled before its promise has come: counted at once, on time.
        row(
            centre, "dialling", local(15, 10, 8), agent_id="op1", first_dialled_at=local(15, 9, 59)
        ),
        # Open, not yet dialled and not yet due: not counted.
        row(centre, "pending", local(15, 10, 5)),
        # Outcomes that say nothing about the promise, even when dialled (late) first.
        row(centre, "cancelled", local(15, 9, 15), first_dialled_at=local(15, 9, 17)),
        row(centre, "merged", local(15, 9, 20), finished_at=local(15, 9, 11)),
        row(centre, "closed", local(15, 9, 25), finished_at=local(15, 9, 16)),
        # Earlier days: on time yesterday evening, late three days ago.
        row(centre, "done", local(14, 23, 30), first_dialled_at=local(14, 23, 25)),
        row(
            centre,
            "failed",
            local(12, 12),
            first_dialled_at=local(12, 12, 5),
            finished_at=local(12, 12, 30),
        ),
        # Another centre's callback changes nothing here.
        row(f"{centre}-x", "pending", local(15, 9), requested_at=local(1, 9)),
    ]
    async with sessions() as session, session.begin():
        session.add_all(rows)
    async with sessions() as session:
        figures = await stats(session, centre=centre, now=NOW.astimezone(dt.UTC), tz=TZ)
    assert figures.pending == 6
    assert figures.oldest_pending_age_seconds == 12 * 3600
    assert figures.overdue == 3
    assert (figures.on_time_today, figures.counted_today) == (6, 11)
    assert figures.within_10min_ratio_today == pytest.approx(6 / 11)
    assert (figures.on_time_total, figures.counted_total) == (7, 13)
    assert figures.within_10min_ratio == pytest.approx(7 / 13)
    assert (figures.failed_today, figures.failed_total) == (2, 3)


async def test_figures_of_a_centre_without_callbacks_are_empty(
    sessions: async_sessionmaker[AsyncSession], centre: str
) -> None:
    async with sessions() as session:
        figures = await stats(session, centre=centre, now=NOW, tz=TZ)
    assert (figures.pending, figures.counted_total, figures.failed_total) == (0, 0, 0)
    assert figures.oldest_pending_age_seconds is None
    assert figures.within_10min_ratio is None and figures.within_10min_ratio_today is None


def test_the_day_is_the_centres_day() -> None:
    start, end = day_bounds(NOW.astimezone(dt.UTC), TZ)
    assert start == dt.datetime(2026, 6, 14, 17, 0, tzinfo=dt.UTC)
    assert end - start == dt.timedelta(days=1)
