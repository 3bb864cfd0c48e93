"""Honouring cancellations that a library swallowed.

redis-py can absorb a CancelledError delivered while it waits for a reply and return normally;
a loop around such a call would then never stop, and a TaskGroup waiting for it would hang.
Long-lived loops call `raise_if_cancelling()` after each such await.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelling() -> None:
    """Raise CancelledError if the current task has a pending, unanswered cancel request."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
