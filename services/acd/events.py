"""Events the ACD core consumes.

Events are immutable ``NamedTuple`` records: they are cheaper to build than frozen dataclasses
(the simulator creates millions of them) and serialise to JSON as plain mappings. The bridge,
the router service and the simulator all speak these types; ``event_to_record`` and
``event_from_record`` give them a stable wire form for Redis streams and replay logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class CallArrived(NamedTuple):
    """A caller finished the voice menu and asks for an operator."""

    call_id: str
    centre: str
    topic: str = "general"
    language: str = "ru"
    priority: int = 0
    did: str = ""
    caller: str = ""
    overflowed_from: str = ""


class CallerHungUp(NamedTuple):
    """The caller left: abandonment while waiting or ringing, or a normal end while talking."""

    call_id: str


class AgentLoggedIn(NamedTuple):
    """An operator logged in; skills are topic levels 1..5, languages are language levels 1..5."""

    agent_id: str
    skills: Mapping[str, int]
    languages: Mapping[str, int]


class AgentLoggedOut(NamedTuple):
    agent_id: str


class AgentReady(NamedTuple):
    agent_id: str


class AgentPaused(NamedTuple):
    agent_id: str
    reason: str = "break"


class AgentAnswered(NamedTuple):
    """The agent picked up a ringing call (not sent when the agent is on auto-answer)."""

    call_id: str
    agent_id: str


class AgentNoAnswer(NamedTuple):
    """The ring timed out or the agent rejected it."""

    call_id: str
    agent_id: str


class CallEnded(NamedTuple):
    """A connected call or callback is over; the agent goes to wrap-up."""

    call_id: str


class WrapUpEnded(NamedTuple):
    """The agent finished after-call work before the configured wrap-up time."""

    agent_id: str


class NeighbourStatus(NamedTuple):
    """A neighbouring centre advertises its expected wait per topic it accepts."""

    centre: str
    waits: Mapping[str, float]
    accepting: bool = True


class CallbackRequested(NamedTuple):
    """A callback to serve within the callback window.

    ``source`` is ``queue`` (a queued caller accepted the offer; ``call_id`` names the call),
    ``callback_line``, ``night`` or ``operator``. ``requested_at`` is when the citizen asked
    (Unix seconds; 0.0 means the event's ``now``): the deadline counts from it, so a request
    delivered late or replayed keeps its promise.
    """

    callback_id: str
    topic: str = "general"
    language: str = "ru"
    caller: str = ""
    call_id: str = ""
    priority: int = 0
    requested_at: float = 0.0
    source: str = "queue"


class CallbackResult(NamedTuple):
    """The citizen leg of a callback: answered, busy, no_answer, hung_up or failed."""

    callback_id: str
    agent_id: str
    result: str


class CallbackCancelled(NamedTuple):
    """Staff withdrew a callback (or the citizen asked to cancel it)."""

    callback_id: str
    reason: str = "cancelled"


class TransferRequested(NamedTuple):
    """The operator asks for a blind transfer of a connected call to an agency number."""

    call_id: str
    agent_id: str
    number: str


class CallbackDeclined(NamedTuple):
    """The caller refused an offered callback and keeps waiting."""

    call_id: str


class ScheduleTick(NamedTuple):
    """Time passes: fires due timers (deadlines, relaxation steps, wrap-up ends)."""

    reason: str = "tick"


class NightModeOverride(NamedTuple):
    """Supervisor override: ``auto`` follows the schedule, ``night`` or ``day`` force a mode."""

    mode: str = "auto"


class EmergencyMode(NamedTuple):
    """R5: while active, every arriving call first hears the announcement."""

    active: bool
    announcement: str = ""


Event = (
    CallArrived
    | CallerHungUp
    | AgentLoggedIn
    | AgentLoggedOut
    | AgentReady
    | AgentPaused
    | AgentAnswered
    | AgentNoAnswer
    | CallEnded
    | WrapUpEnded
    | NeighbourStatus
    | CallbackRequested
    | CallbackDeclined
    | CallbackResult
    | CallbackCancelled
    | TransferRequested
    | ScheduleTick
    | NightModeOverride
    | EmergencyMode
)

EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        CallArrived,
        CallerHungUp,
        AgentLoggedIn,
        AgentLoggedOut,
        AgentReady,
        AgentPaused,
        AgentAnswered,
        AgentNoAnswer,
        CallEnded,
        WrapUpEnded,
        NeighbourStatus,
        CallbackRequested,
        CallbackDeclined,
        CallbackResult,
        CallbackCancelled,
        TransferRequested,
        ScheduleTick,
        NightModeOverride,
        EmergencyMode,
    )
}


def event_to_record(event: Event) -> dict[str, Any]:
    """JSON-ready form: the type name plus the fields (mappings copied to plain dicts)."""
    fields = {k: dict(v) if isinstance(v, Mapping) else v for k, v in event._asdict().items()}
    return {"type": type(event).__name__, **fields}


def event_from_record(record: Mapping[str, Any]) -> Event:
    """Inverse of ``event_to_record``; raises ``ValueError`` naming an unknown type."""
    fields = dict(record)
    name = fields.pop("type", None)
    cls = EVENT_TYPES.get(str(name))
    if cls is None:
        raise ValueError(f"unknown ACD event type: {name!r}")
    event: Event = cls(**fields)
    return event
