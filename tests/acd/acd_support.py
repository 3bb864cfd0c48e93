"""Small builders shared by the ACD tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

from services.acd import commands as c
from services.acd import events as e
from services.acd.config import RouterConfig
from services.acd.router import RouterState

# 10:00 UTC = 17:00 in Novokuznetsk: daytime, so night mode stays out of the way.
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC).timestamp()
CommandT = TypeVar("CommandT")


def make_router(**overrides: Any) -> RouterState:
    base = {"announce_position": False}
    base.update(overrides)
    return RouterState(RouterConfig.model_validate(base))


def login(
    state: RouterState,
    agent_id: str,
    skills: dict[str, int] | None = None,
    *,
    languages: dict[str, int] | None = None,
    now: float = T0,
) -> list[c.Command]:
    state.apply(e.AgentLoggedIn(agent_id, skills or {"general": 3}, languages or {"ru": 5}), now)
    return state.apply(e.AgentReady(agent_id), now)


def arrive(
    state: RouterState,
    call_id: str,
    now: float = T0,
    *,
    topic: str = "general",
    priority: int = 0,
    language: str = "ru",
    overflowed_from: str = "",
) -> list[c.Command]:
    event = e.CallArrived(
        call_id,
        state.config.centre,
        topic,
        language,
        priority,
        overflowed_from=overflowed_from,
    )
    return state.apply(event, now)


def only(commands: list[c.Command], kind: type[CommandT]) -> list[CommandT]:
    return [cmd for cmd in commands if isinstance(cmd, kind)]


def connected(commands: list[c.Command]) -> list[tuple[str, str]]:
    return [(cmd.call_id, cmd.agent_id) for cmd in only(commands, c.ConnectAgent)]
