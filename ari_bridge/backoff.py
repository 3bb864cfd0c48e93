"""Capped exponential backoff shared by the ARI WebSocket reader and the AMI adapter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays ``initial_s * factor**n`` capped at ``cap_s``; reset after a good connection."""

    initial_s: float = 0.5
    factor: float = 2.0
    cap_s: float = 30.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive failed attempts (``failures >= 1``)."""
        exponent = max(failures - 1, 0)
        if self.initial_s * self.factor**exponent >= self.cap_s:
            return self.cap_s
        return self.initial_s * self.factor**exponent
