"""Wall-clock stamps in Asterisk's formats and a speed factor for simulated delays.

Timestamps are always real UTC time (as Asterisk stamps them); only the *delays* of the
simulation (ringing, waits, prompt lengths) are divided by ``speed`` so tests run fast.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


def ari_timestamp(epoch: float | None = None) -> str:
    """ARI's format: ``2026-11-30T11:24:28.249+0000`` (milliseconds, numeric offset)."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def ami_timestamp(epoch: float | None = None) -> str:
    """AMI's ``Timestamp:`` header: seconds with microseconds."""
    return f"{time.time() if epoch is None else epoch:.6f}"


@dataclass
class SimClock:
    """Scales simulated durations: ``speed=10`` makes a 20 s Wait() last 2 s of real time."""

    speed: float = 1.0
    _loop_start: float = field(default_factory=time.monotonic)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.speed)

    def sim_now(self) -> float:
        """Simulated seconds since start; used for durations such as a recording's length."""
        return (time.monotonic() - self._loop_start) * self.speed
