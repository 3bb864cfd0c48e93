"""Expected wait time from live data, and the rolling handle times it rests on."""

from __future__ import annotations

from collections import deque

NO_AGENT_WAIT = 86_400.0
"""Reported when nobody who can take the topic is staffed: a day, finite so it stays JSON."""


class HandleTimes:
    """The last ``window`` handle (talk) times per topic.

    The router appends to a topic's deque directly (buckets of the topic share it): that is
    the hot path of every answered call. The mean is summed only when a caller has to wait.
    """

    __slots__ = ("_samples", "window")

    def __init__(self, window: int) -> None:
        self.window = window
        self._samples: dict[str, deque[float]] = {}

    def samples(self, topic: str) -> deque[float]:
        samples = self._samples.get(topic)
        if samples is None:
            samples = self._samples[topic] = deque(maxlen=self.window)
        return samples


def expected_wait(calls_ahead: int, staffed_agents: int, cycle_seconds: float) -> float:
    """Wait until ``calls_ahead + 1`` agents free up, agents finishing one cycle each.

    With ``n`` busy agents completing a call every ``cycle/n`` seconds on average, the caller at
    position ``k`` (``k - 1`` ahead) is served after about ``k * cycle / n``: the M/M/n
    conditional wait. Each staffed agent is counted once, whatever else it can take.
    """
    if staffed_agents <= 0:
        return NO_AGENT_WAIT
    return min(NO_AGENT_WAIT, (calls_ahead + 1) * cycle_seconds / staffed_agents)
