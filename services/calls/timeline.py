"""From a router-log entry to call timeline steps and summary changes — pure functions.

A router-log entry holds one event the router applied and everything it produced. The event
and each output that concerns a call become one timeline step; `apply_step` folds a step into
the call's summary (outcome, times, durations, who hung up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

#: Output record types and the timeline kind they become.
_OUTPUT_KINDS = {
    "Queued": "queued",
    "Announce": "announced",
    "ConnectAgent": "offered",
    "StopRinging": "ringing_stopped",
    "OverflowTo": "overflowed",
    "OfferCallback": "callback_offered",
    "PlaySelfService": "self_service",
    "PlayAutoAttendant": "auto_attendant",
    "Decision": "decision",
    "CallAnswered": "answered",
    "CallFinished": "finished",
}
_EVENT_KINDS = {
    "CallArrived": "arrived",
    "CallerHungUp": "caller_hung_up",
    "AgentAnswered": "agent_answered",
    "AgentNoAnswer": "no_answer",
    "CallEnded": "agent_hung_up",
    "CallbackDeclined": "callback_declined",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One timeline step of one call."""

    call_id: str
    at: datetime
    kind: str
    data: dict[str, Any]


def steps_of(
    event_type: str, event: dict[str, Any], now: float, outputs: list[dict[str, Any]]
) -> list[Step]:
    """The timeline steps a router-log entry contributes, in order."""
    at = datetime.fromtimestamp(now, UTC)
    steps: list[Step] = []
    if event_type in _EVENT_KINDS and event.get("call_id"):
        steps.append(Step(str(event["call_id"]), at, _EVENT_KINDS[event_type], event))
    for output in outputs:
        kind = _OUTPUT_KINDS.get(str(output.get("type")))
        if kind is not None and output.get("call_id"):
            data = {k: v for k, v in output.items() if k not in ("type", "seq", "call_id")}
            steps.append(Step(str(output["call_id"]), at, kind, data))
    return steps


@dataclass(slots=True)
class Summary:
    """The mutable summary of a call while its steps are folded in."""

    arrived_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    agent_id: str | None = None
    offers: int = 0
    outcome: str = "in_progress"
    hangup_side: str | None = None
    expected_wait_seconds: float | None = None
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    overflowed_to: str | None = None


def apply_step(summary: Summary, step: Step) -> None:
    """Fold one step into the summary."""
    data = step.data
    match step.kind:
        case "queued":
            if summary.expected_wait_seconds is None:
                summary.expected_wait_seconds = float(data.get("expected_wait", 0.0))
        case "offered":
            summary.offers += 1
        case "answered":
            summary.answered_at = step.at
            summary.agent_id = str(data.get("agent_id") or "") or None
            summary.wait_seconds = float(data.get("waited", 0.0))
            summary.outcome = "answered"
        case "overflowed":
            summary.overflowed_to = str(data.get("centre") or "") or None
        case "finished":
            summary.outcome = str(data.get("outcome", summary.outcome))
            if summary.outcome != "answered" and summary.ended_at is None:
                summary.ended_at = step.at
                if summary.wait_seconds is None:
                    summary.wait_seconds = (step.at - summary.arrived_at).total_seconds()
        case "caller_hung_up" | "agent_hung_up":
            if summary.hangup_side is None:
                summary.hangup_side = "caller" if step.kind == "caller_hung_up" else "agent"
            summary.ended_at = summary.ended_at or step.at
            if summary.answered_at is not None and summary.talk_seconds is None:
                summary.talk_seconds = (step.at - summary.answered_at).total_seconds()
        case _:
            pass
