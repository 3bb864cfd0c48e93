"""From a router-log entry to changes of callbacks, and folding a change into a callback's
state — pure functions.

The router decides everything about a callback (when it is due, who calls, retries, merges);
its log entry holds the event it applied and the records it produced. Each event or record
that concerns a callback becomes one `Change`; `apply_change` folds it into the callback's
status, times and counters. The router log is the truth: a later entry wins over an earlier
one and over a provisional change staff made through the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: `CallFinished` outcomes of callbacks and the status each leaves.
FINISHED_STATUS = {
    "callback_done": "done",
    "callback_failed": "failed",
    "callback_cancelled": "cancelled",
    "callback_merged": "merged",
    "callback_closed": "closed",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One step of one callback, from a router-log entry."""

    callback_id: str
    kind: str
    data: dict[str, Any]


def at_of(unix: float) -> datetime:
    """Unix seconds of the router's clock as an aware UTC time."""
    return datetime.fromtimestamp(unix, UTC)


def changes_of(
    event_type: str, event: dict[str, Any], now: float, outputs: list[dict[str, Any]]
) -> list[Change]:
    """The callback changes a router-log entry contributes, in order.

    `AgentAnswered`, `AgentNoAnswer`, `CallAnswered` and some `CallFinished` records name calls
    as well as callbacks: the caller applies a change only to a callback it knows.
    """
    changes: list[Change] = []
    if event_type == "CallbackRequested" and event.get("callback_id"):
        changes.append(
            Change(
                str(event["callback_id"]),
                "requested",
                {
                    "caller": str(event.get("caller", "")),
                    "topic": str(event.get("topic") or "general"),
                    "language": str(event.get("language") or "ru"),
                    "priority": int(event.get("priority", 0)),
                    "call_id": str(event.get("call_id", "")),
                    "source": str(event.get("source") or "queue"),
                    # 0.0 means "when the router applied it", as the core reads it.
                    "requested_at": float(event.get("requested_at") or 0.0) or now,
                },
            )
        )
    elif event_type == "CallbackResult" and event.get("result") == "answered":
        # The core records the tries that failed; the one that reached the citizen is the
        # bridge's result itself (its number follows the failed ones).
        data = {"agent_id": str(event.get("agent_id", "")), "attempt": None, "result": "answered"}
        changes.append(Change(str(event["callback_id"]), "attempted", data))
    elif event_type == "AgentAnswered" and event.get("call_id"):
        # The operator's seat took the callback leg: the bridge now rings the citizen's phone.
        changes.append(
            Change(str(event["call_id"]), "dialled", {"agent_id": str(event.get("agent_id", ""))})
        )
    elif event_type == "AgentNoAnswer" and event.get("call_id"):
        changes.append(
            Change(
                str(event["call_id"]),
                "operator_no_answer",
                {"agent_id": str(event.get("agent_id", ""))},
            )
        )
    for output in outputs:
        change = _output_change(output)
        if change is not None:
            changes.append(change)
    return changes


def _output_change(output: dict[str, Any]) -> Change | None:
    kind = output.get("type")
    if kind == "CallbackScheduled":
        data = {
            "caller": str(output.get("caller", "")),
            "topic": str(output.get("topic") or "general"),
            "source": str(output.get("source") or "queue"),
            "requested_at": float(output["requested_at"]),
            "due_at": float(output["due_at"]),
            "deadline": float(output["deadline"]),
            "attempt": int(output.get("attempt", 1)),
        }
        return Change(str(output["callback_id"]), "scheduled", data)
    if kind == "DialCallback":
        data = {"agent_id": str(output["agent_id"]), "attempt": int(output.get("attempt", 1))}
        return Change(str(output["callback_id"]), "dialling", data)
    if kind == "CallbackAttempted":
        data = {
            "agent_id": str(output["agent_id"]),
            "attempt": int(output["attempt"]),
            "result": str(output["result"]),
        }
        return Change(str(output["callback_id"]), "attempted", data)
    if kind == "StopRinging" and output.get("call_id"):
        # The seat stops ringing (the operator logged out, or a cancellation): as a no-answer.
        data = {"agent_id": str(output.get("agent_id", ""))}
        return Change(str(output["call_id"]), "operator_no_answer", data)
    if kind == "CallAnswered" and output.get("call_id"):
        return Change(
            str(output["call_id"]), "operator_answered", {"agent_id": str(output["agent_id"])}
        )
    if kind == "CallFinished" and output.get("outcome") in FINISHED_STATUS:
        return Change(str(output["call_id"]), "finished", {"outcome": str(output["outcome"])})
    return None


@dataclass(slots=True)
class State:
    """The part of a callback that changes as the router works on it."""

    status: str
    attempts: int = 0
    last_result: str | None = None
    agent_id: str | None = None
    due_at: datetime | None = None
    deadline: datetime | None = None
    promised_by: datetime | None = None
    first_dialled_at: datetime | None = None
    answered_at: datetime | None = None
    finished_at: datetime | None = None


def apply_change(state: State, change: Change, at: datetime) -> None:
    """Fold one change (applied by the router at `at`) into the state."""
    data = change.data
    match change.kind:
        case "scheduled":
            # On the request and after each failed attempt: waiting for its turn again.
            state.status = "pending"
            state.agent_id = None
            state.due_at = at_of(data["due_at"])
            state.deadline = at_of(data["deadline"])
            state.finished_at = None
            # The promise is the first deadline; a duplicate request merged into this one may
            # bring it forward before the first dial; a retry's deadline never moves it.
            if state.promised_by is None:
                state.promised_by = state.deadline
            elif data["attempt"] <= 1 and state.first_dialled_at is None:
                state.promised_by = min(state.promised_by, state.deadline)
        case "dialling":
            state.status = "dialling"
            state.agent_id = data["agent_id"]
            state.finished_at = None
        case "dialled":
            # Only the seat the router rang for this callback (a stray answer changes nothing).
            if state.agent_id == data["agent_id"] and state.first_dialled_at is None:
                state.first_dialled_at = at
        case "operator_answered":
            state.agent_id = data["agent_id"]
        case "operator_no_answer":
            # The operator's phone did not answer: back to its line, no attempt counted.
            if state.status == "dialling" and state.agent_id == data["agent_id"]:
                state.status = "pending"
                state.agent_id = None
        case "attempted":
            state.attempts = max(state.attempts, data["attempt"] or state.attempts + 1)
            state.last_result = data["result"]
            state.agent_id = data["agent_id"]
            if data["result"] == "answered" and state.answered_at is None:
                state.answered_at = at
        case "finished":
            state.status = FINISHED_STATUS[data["outcome"]]
            state.finished_at = at
        case "requested":
            pass  # it creates the row (the writer's job); it changes nothing once the row exists
