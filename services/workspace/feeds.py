"""What the workspace reads from and writes to the centre's Redis: the router log, the menu
variables of calls, the live state document, and events for the router."""

from __future__ import annotations

import json
from typing import Any

from services.acd.events import TransferRequested
from services.common.streams import Streams
from services.ivr.streams import CALL_VARIABLES
from services.router.live import live_key, read_live
from services.router.wire import ROUTER_LOG, send_events
from services.workspace.agent_state import AgentView, LogEntry, WrapUp, fold

#: How many of the latest router-log entries an operator's state is folded from. An operator
#: whose last login is older than this window shows as offline until their next action.
LOG_WINDOW = 5000
#: How many of the latest call-variables entries are searched for one call.
VARIABLES_WINDOW = 2000


async def recent_log(streams: Streams, count: int = LOG_WINDOW) -> list[LogEntry]:
    """The latest router-log entries, oldest first."""
    redis: Any = streams.client
    rows = await redis.xrevrange(streams.key(ROUTER_LOG), count=count)
    rows.reverse()
    return [(str(entry_id), fields) for entry_id, fields in rows]


async def last_log_id(streams: Streams) -> str:
    """The id to read new router-log entries after."""
    redis: Any = streams.client
    rows = await redis.xrevrange(streams.key(ROUTER_LOG), count=1)
    return str(rows[0][0]) if rows else "0-0"


async def agent_view(streams: Streams, agent_id: str, wrap_up_seconds: WrapUp) -> AgentView:
    return fold(agent_id, await recent_log(streams), wrap_up_seconds)


async def call_variables(streams: Streams, call_id: str) -> dict[str, str]:
    """What the caller chose in the voice menu (empty if the call skipped the menus)."""
    redis: Any = streams.client
    rows = await redis.xrevrange(streams.key(CALL_VARIABLES), count=VARIABLES_WINDOW)
    for _entry_id, fields in rows:
        if fields.get("call_id") == call_id:
            try:
                variables = json.loads(fields.get("variables", "{}"))
            except json.JSONDecodeError:
                return {}
            return (
                {str(k): str(v) for k, v in variables.items()}
                if isinstance(variables, dict)
                else {}
            )
    return {}


async def live_state(streams: Streams, prefix: str) -> dict[str, Any] | None:
    """The router's latest live document, or None when no router has written one."""
    return await read_live(streams.client, live_key(prefix))


async def request_transfer(streams: Streams, *, call_id: str, agent_id: str, number: str) -> None:
    """Ask the router for a blind transfer of the operator's connected call."""
    await send_events(streams, TransferRequested(call_id, agent_id, number))
