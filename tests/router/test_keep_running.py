"""A records writer that fails is started again instead of stopping the router."""

from __future__ import annotations

import asyncio

import pytest

from services.router.process import keep_running


async def test_a_failing_writer_is_restarted_and_a_stop_still_stops_it() -> None:
    starts = 0
    third_start = asyncio.Event()

    async def writer() -> None:
        nonlocal starts
        starts += 1
        if starts < 3:
            raise RuntimeError("a column the writer did not expect")
        third_start.set()
        await asyncio.Event().wait()  # the healthy writer runs until cancelled

    task = asyncio.create_task(keep_running("test", writer, pause_s=0.01))
    async with asyncio.timeout(5):
        await third_start.wait()
    assert starts == 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
