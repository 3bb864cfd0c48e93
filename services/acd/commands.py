"""Commands and decision records the ACD core emits.

Every command carries ``seq``, the router's own monotonically increasing counter, so that
``command_id`` (``"<subject>/<seq>"``) is the same whenever the same event log is replayed:
executors store executed ids and skip repeats. Records (``Queued``, ``Decision``,
``CallAnswered``, ``CallFinished``) change nothing outside; they are the audit trail of every
decision and the raw data for service-level and estimate-error reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class Announce(NamedTuple):
    """Play a message to a waiting caller: ``position`` (with expected wait) or ``emergency``."""

    seq: int
    call_id: str
    kind: str
    position: int
    expected_wait: float
    text: str = ""

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class ConnectAgent(NamedTuple):
    """Ring the agent with the call (or bridge at once when the agent is on auto-answer).

    With ``auto_answer`` this command is also the answer record: ``waited`` is final.
    """

    seq: int
    call_id: str
    agent_id: str
    ring_timeout: float
    auto_answer: bool
    waited: float
    expected_wait: float
    level: int

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class DialCallback(NamedTuple):
    """Reserve the agent for a callback: ring the agent's seat, then dial the citizen.

    ``waited`` counts from the request; ``attempt`` is 1 for the first try of the citizen.
    """

    seq: int
    callback_id: str
    agent_id: str
    caller: str
    waited: float
    attempt: int = 1
    topic: str = "general"
    ring_timeout: float = 15.0

    @property
    def command_id(self) -> str:
        return f"{self.callback_id}/{self.seq}"


class TransferCall(NamedTuple):
    """Blind transfer of the caller's channel to ``number``; the operator's leg is hung up."""

    seq: int
    call_id: str
    number: str

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class StopRinging(NamedTuple):
    """The caller left while the agent's phone was ringing."""

    seq: int
    call_id: str
    agent_id: str

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class OverflowTo(NamedTuple):
    """Send the call to a neighbouring centre (R4)."""

    seq: int
    call_id: str
    centre: str
    reason: str
    expected_wait: float
    neighbour_wait: float

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class OfferCallback(NamedTuple):
    """Offer the caller a callback within the callback window (R3)."""

    seq: int
    call_id: str
    reason: str
    expected_wait: float

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class PlaySelfService(NamedTuple):
    """Hand the call to the self-service menu for its topic (R7)."""

    seq: int
    call_id: str
    topic: str
    reason: str

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class PlayAutoAttendant(NamedTuple):
    """Night mode (R1): the auto-attendant takes the call."""

    seq: int
    call_id: str
    reason: str

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class EndCall(NamedTuple):
    """Play a closing message and hang up: nobody can take the call and nothing else applies."""

    seq: int
    call_id: str
    reason: str

    @property
    def command_id(self) -> str:
        return f"{self.call_id}/{self.seq}"


class PauseAgent(NamedTuple):
    """The router paused an agent (after repeated ring-no-answer)."""

    seq: int
    agent_id: str
    reason: str

    @property
    def command_id(self) -> str:
        return f"{self.agent_id}/{self.seq}"


class Queued(NamedTuple):
    """Record: the call waits in line; the estimate is kept to measure its error later."""

    seq: int
    call_id: str
    position: int
    expected_wait: float


class Decision(NamedTuple):
    """Record: a routing decision that is not itself a command (e.g. no fallback was possible)."""

    seq: int
    call_id: str
    action: str
    reason: str


class CallAnswered(NamedTuple):
    """Record: an agent answered after ``waited`` seconds; compare with the arrival estimate."""

    seq: int
    call_id: str
    agent_id: str
    waited: float
    expected_wait: float


class CallFinished(NamedTuple):
    """Record: the call or callback left the router, exactly once, with one outcome."""

    seq: int
    call_id: str
    outcome: str


class CallbackScheduled(NamedTuple):
    """Record: a callback (or its retry) is due from ``due_at`` and promised by ``deadline``."""

    seq: int
    callback_id: str
    caller: str
    topic: str
    source: str
    requested_at: float
    due_at: float
    deadline: float
    attempt: int


class CallbackAttempted(NamedTuple):
    """Record: one try to reach the citizen ended with ``result`` (not answered)."""

    seq: int
    callback_id: str
    agent_id: str
    attempt: int
    result: str


Command = (
    Announce
    | ConnectAgent
    | DialCallback
    | TransferCall
    | StopRinging
    | OverflowTo
    | OfferCallback
    | PlaySelfService
    | PlayAutoAttendant
    | EndCall
    | PauseAgent
    | Queued
    | Decision
    | CallAnswered
    | CallFinished
    | CallbackScheduled
    | CallbackAttempted
)

ACTIONS: tuple[type[Any], ...] = (
    Announce,
    ConnectAgent,
    DialCallback,
    TransferCall,
    StopRinging,
    OverflowTo,
    OfferCallback,
    PlaySelfService,
    PlayAutoAttendant,
    EndCall,
    PauseAgent,
)
"""Commands a shell must carry out (the bridge, or the workspace for ``PauseAgent``)."""

RECORDS: tuple[type[Any], ...] = (
    Queued,
    Decision,
    CallAnswered,
    CallFinished,
    CallbackScheduled,
    CallbackAttempted,
)
"""Outputs that only record a decision or an outcome."""

COMMAND_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in ACTIONS + RECORDS}


def command_to_record(command: Command) -> dict[str, Any]:
    """JSON-ready form: the type name plus the fields."""
    return {"type": type(command).__name__, **command._asdict()}


def command_from_record(record: Mapping[str, Any]) -> Command:
    """Inverse of ``command_to_record``; raises ``ValueError`` naming an unknown type."""
    fields = dict(record)
    name = fields.pop("type", None)
    cls = COMMAND_TYPES.get(str(name))
    if cls is None:
        raise ValueError(f"unknown ACD command type: {name!r}")
    command: Command = cls(**fields)
    return command


OUTCOMES = (
    "answered",
    "abandoned",
    "overflowed",
    "callback",
    "self_service",
    "night",
    "ended",
    "callback_done",
    "callback_cancelled",
    "callback_failed",
    "callback_merged",
    "callback_closed",
    "transferred",
)
