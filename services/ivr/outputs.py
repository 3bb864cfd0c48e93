"""What a voice-menu session is given (`CallContext`) and what it asks for (outputs).

Outputs are plain frozen data. The bridge carries out the actions (`Play`, timers, recording,
knowledge and complaint-status look-ups) and turns exactly one outcome per session into router
events: a queued call (`RouteToQueue` → ACD ``CallArrived``), a callback (`RequestCallback` →
``CallbackRequested``), a transfer, a recorded complaint, or a hang-up. An outcome's
``farewell`` is media to play before the bridge hangs up or transfers; ``variables`` are the
caller's choices, for the call record and the operator's screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, TypeAlias


@dataclass(frozen=True, slots=True)
class CallContext:
    """The facts of one call when its menu starts; ``now`` is aware, in the centre's zone.

    ``night`` is decided by the bridge (the ACD's `NightSchedule`, or a supervisor's override);
    ``holidays`` lets a flow greet differently on a public holiday.
    """

    did: str
    caller: str
    now: datetime
    night: bool = False
    emergency: bool = False
    announcement: str = ""
    holidays: frozenset[date] = frozenset()
    session_id: str = "ivr"

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("CallContext.now must be timezone-aware (the centre's zone)")


@dataclass(frozen=True, slots=True)
class Play:
    """Play media under ``playback_id``; ``texts`` are ``(media, text)`` pairs of prompts made
    during the call (announcements, knowledge answers) that the shell may need to synthesise."""

    playback_id: str
    media: tuple[str, ...]
    texts: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StopPlayback:
    playback_id: str


@dataclass(frozen=True, slots=True)
class StartTimer:
    timer_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class StartRecording:
    name: str
    max_seconds: int
    terminate_on: str
    beep: bool = True


@dataclass(frozen=True, slots=True)
class FetchInformation:
    """Ask the knowledge service for the top spoken answers; reply with ``on_information``."""

    topic: str
    service: str | None
    limit: int


@dataclass(frozen=True, slots=True)
class FetchStatus:
    """Ask the complaints service for a complaint's status (``POST /complaints/status``);
    reply with ``on_status``."""

    number: str
    phone_last4: str


StatusResult: TypeAlias = Literal["found", "not_found", "unavailable"]
"""What a status look-up came to: a complaint matched (its spoken status is read), none did
(404), or the service failed, refused (429) or was too slow."""


@dataclass(frozen=True, slots=True)
class RouteToQueue:
    topic: str
    language: str
    priority: int
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RequestCallback:
    number: str
    variables: Mapping[str, str] = field(default_factory=dict)
    when: Literal["now", "morning"] = "now"
    farewell: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Transfer:
    number: str
    variables: Mapping[str, str] = field(default_factory=dict)
    farewell: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """A voice message was recorded (``duration`` seconds; ``None`` when Asterisk gave none)."""

    name: str
    kind: Literal["complaint", "message"] = "complaint"
    duration: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    farewell: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str
    variables: Mapping[str, str] = field(default_factory=dict)
    farewell: tuple[str, ...] = ()


Action: TypeAlias = (
    Play | StopPlayback | StartTimer | CancelTimer | StartRecording | FetchInformation | FetchStatus
)
Outcome: TypeAlias = RouteToQueue | RequestCallback | Transfer | RecordedMessage | Hangup
Output: TypeAlias = Action | Outcome
OUTCOMES = (RouteToQueue, RequestCallback, Transfer, RecordedMessage, Hangup)


def spoken_information(answers: list[Mapping[str, object]]) -> str:
    """One text to read from the knowledge service's ``[{id, question, spoken}]`` answers."""
    parts: list[str] = []
    for answer in answers:
        question = str(answer.get("question") or "").strip().rstrip("?")
        spoken = str(answer.get("spoken") or "").strip()
        if spoken:
            parts.append(f"{question}. {spoken}" if question else spoken)
    return " ".join(parts)
