"""Pure figures of the supervisor console: the day's service level against the 40-second
promise, and the rows of the live operators table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """The day's service level as the router counts it (and the wallboard and Prometheus show
    it, docs/metrics.md): every call that reached the queue counts once, met only if answered
    within the promise."""

    met: int
    total: int
    abandoned: int

    @property
    def percent(self) -> float | None:
        """Share answered within the promise; None before the first counted call."""
        return None if self.total == 0 else 100.0 * self.met / self.total


def service_level(document: Mapping[str, Any] | None) -> ServiceLevel:
    """From the router's live document (zeros when no router is routing)."""
    board = (document or {}).get("wallboard") or {}
    return ServiceLevel(
        met=int(board.get("service_level_today_met") or 0),
        total=int(board.get("service_level_today_calls") or 0),
        abandoned=int(board.get("abandoned_today") or 0),
    )


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
