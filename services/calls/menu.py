"""Call records of the voice menu (R8): what a `call-variables` entry means — pure functions.

The bridge writes one `call-variables` entry for every call that ran a menu, when the menu
ends: `call_id`, `variables` (JSON), `outcome`, `did`, `caller`, `started_at`, `ended_at`
(Unix seconds), and for a `self_service` end the flow's `reason`. A call that went on to the
queue already has a record from the router log; it gets the menu's steps and variables on its
timeline. Any other call ended in the menu, and the router never heard of it: the entry is its
whole record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.calls.timeline import Step

#: The bridge's menu outcomes and the `calls.outcome` of a call that ended with them (None:
#: the call went on to the queue, and the router's record keeps its own outcome).
RECORD_OUTCOMES: dict[str, str | None] = {
    "queue": None,
    "hangup": "menu_hangup",
    "self_service": "self_service",
    "transfer": "transferred_from_menu",
    "recorded": "voice_message",
    "callback": "callback_requested",
}
#: Outcome of a queued call's record built from its menu entry alone, because the router log
#: never told of its arrival (the router was down, or its log entry was lost).
QUEUED_UNSEEN = "queued"


@dataclass(frozen=True, slots=True)
class MenuCall:
    """One call's menu, as the bridge reported it."""

    call_id: str
    outcome: str
    variables: dict[str, str]
    did: str
    caller: str
    started_at: datetime
    ended_at: datetime
    reason: str = ""
    """The flow's reason for a `self_service` end (e.g. ``no_input``, ``empty_message``)."""

    @property
    def queued(self) -> bool:
        return self.outcome == "queue"

    @property
    def record_outcome(self) -> str:
        """The outcome of a record made from this entry alone."""
        return RECORD_OUTCOMES.get(self.outcome) or QUEUED_UNSEEN

    @property
    def hangup_side(self) -> str | None:
        """Who ended a menu-only call: the caller mid-menu, the menu after its farewell, or
        nobody here (transferred on)."""
        if self.outcome == "hangup":
            return "caller"
        return None if self.outcome in ("transfer", "queue") else "menu"

    @property
    def topic(self) -> str:
        return self.variables.get("topic", "")[:32]


def _time(value: str, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name} is not a Unix time: {value!r}") from exc


def menu_call(fields: dict[str, str]) -> MenuCall:
    """Read an entry; ValueError names what is wrong with a malformed one."""
    call_id = fields.get("call_id", "")
    if not call_id:
        raise ValueError("no call_id")
    outcome = fields.get("outcome", "")
    if outcome not in RECORD_OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    raw: Any = json.loads(fields.get("variables") or "{}")
    if not isinstance(raw, dict):
        raise ValueError("variables is not a JSON object")
    variables = {str(key): str(value) for key, value in raw.items()}
    started_at = _time(fields.get("started_at", ""), "started_at")
    ended_at = max(started_at, _time(fields.get("ended_at", ""), "ended_at"))
    return MenuCall(
        call_id=call_id,
        outcome=outcome,
        variables=variables,
        did=fields.get("did") or variables.get("did", ""),
        caller=fields.get("caller") or variables.get("caller", ""),
        started_at=started_at,
        ended_at=ended_at,
        reason=fields.get("reason", ""),
    )


def menu_steps(call: MenuCall) -> list[Step]:
    """The menu's two timeline steps: entering it, and leaving it with the caller's choices."""
    return [
        Step(call.call_id, call.started_at, "menu_started", {"did": call.did}),
        Step(
            call.call_id,
            call.ended_at,
            "menu_ended",
            {
                "outcome": call.outcome,
                **({"reason": call.reason} if call.reason else {}),
                "variables": call.variables,
                "menu_seconds": (call.ended_at - call.started_at).total_seconds(),
            },
        ),
    ]
