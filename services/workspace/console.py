"""Pure figures of the supervisor console: the day's service level against the 40-second
promise, and the rows of the live operators table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: R-level promise: a caller is answered within this many seconds.
ANSWER_WITHIN_S = 40.0


#: Call outcomes of callers who reached the queue and were not answered there: they count
#: against the service level, as on the wallboard and in Prometheus (docs/metrics.md).
NOT_ANSWERED = ("abandoned", "overflowed", "callback", "self_service", "ended")
#: Outcomes of answered calls (a transfer happens after the answer).
ANSWERED = ("answered", "transferred")


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """Calls of the day that reached the queue and ended: answered within the promise,
    answered later, abandoned, or sent elsewhere (overflow, callback, self-service)."""

    answered_in_time: int
    answered_late: int
    abandoned: int
    elsewhere: int = 0

    @property
    def total(self) -> int:
        return self.answered_in_time + self.answered_late + self.abandoned + self.elsewhere

    @property
    def percent(self) -> float | None:
        """Share answered within the promise; None before the first finished call."""
        return None if self.total == 0 else 100.0 * self.answered_in_time / self.total


def service_level(calls: Iterable[tuple[str, float | None]]) -> ServiceLevel:
    """From (outcome, wait seconds) of the day's calls. Calls in progress, night calls and
    calls that ended in the voice menu never reached the queue and do not count."""
    in_time = late = abandoned = elsewhere = 0
    for outcome, wait in calls:
        if outcome in ANSWERED:
            if wait is not None and wait <= ANSWER_WITHIN_S:
                in_time += 1
            else:
                late += 1
        elif outcome == "abandoned":
            abandoned += 1
        elif outcome in NOT_ANSWERED:
            elsewhere += 1
    return ServiceLevel(in_time, late, abandoned, elsewhere)


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: str
    state: str
    in_state: float
    call_id: str
    topic: str
    pause_reason: str


def agent_rows(document: Mapping[str, Any], now: float) -> list[AgentRow]:
    """The live document's operators, busiest states first, then by id."""
    order = {"talking": 0, "ringing": 1, "wrap_up": 2, "ready": 3, "paused": 4, "offline": 5}
    rows = [
        AgentRow(
            agent_id=str(agent.get("id", "")),
            state=str(agent.get("state", "offline")),
            in_state=max(0.0, now - float(agent.get("since") or now)),
            call_id=str(agent.get("call_id") or ""),
            topic=str(agent.get("topic") or ""),
            pause_reason=str(agent.get("pause_reason") or ""),
        )
        for agent in document.get("agents", [])
        if isinstance(agent, Mapping)
    ]
    return sorted(rows, key=lambda row: (order.get(row.state, 9), row.agent_id))


def longest_wait(document: Mapping[str, Any]) -> float:
    """The longest current wait in the queue (0 when nobody waits)."""
    board = document.get("wallboard") or {}
    waits = [
        float(w.get("waited", 0.0)) for w in document.get("waiting", []) if isinstance(w, Mapping)
    ]
    return max([float(board.get("longest_wait_seconds", 0.0)), *waits])


def parse_levels(text: str) -> dict[str, int]:
    """ "mfc:3, social:2" → {"mfc": 3, "social": 2}; raises ValueError naming the bad part."""
    levels: dict[str, int] = {}
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        name, sep, level = part.partition(":")
        name = name.strip()
        if not sep or not name.replace("_", "").isalnum() or not name.isascii():
            raise ValueError(f"«{part}»: нужно имя:уровень, например mfc:3")
        try:
            value = int(level)
        except ValueError as exc:
            raise ValueError(f"«{part}»: уровень — число от 1 до 5") from exc
        if not 1 <= value <= 5:
            raise ValueError(f"«{part}»: уровень — число от 1 до 5")
        levels[name.lower()] = value
    return levels


def format_levels(levels: Mapping[str, int]) -> str:
    return ", ".join(f"{name}:{level}" for name, level in sorted(levels.items()))
