"""What the bridge asks Asterisk to do: plain data, executed by `executor.py` through ARI.

The call controller decides; it never calls ARI itself, so its decisions are tested without
a PBX and the executor stays a thin, dumb mapping onto REST calls.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Answer:
    channel_id: str


@dataclass(frozen=True, slots=True)
class Hangup:
    channel_id: str


@dataclass(frozen=True, slots=True)
class EnsureHoldingBridge:
    """Create the queue's holding bridge if this process has not yet."""

    bridge_id: str


@dataclass(frozen=True, slots=True)
class AddToBridge:
    bridge_id: str
    channel_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveFromBridge:
    bridge_id: str
    channel_id: str


@dataclass(frozen=True, slots=True)
class StartMusicOnHold:
    """Asterisk stops a holding bridge's music when its last caller leaves: restart it."""

    bridge_id: str


@dataclass(frozen=True, slots=True)
class CreateMixingBridge:
    bridge_id: str


@dataclass(frozen=True, slots=True)
class DestroyBridge:
    bridge_id: str


@dataclass(frozen=True, slots=True)
class Play:
    """Play media (`sound:`, `recording:`, `number:`…) on a channel under a known playback id."""

    channel_id: str
    playback_id: str
    media: tuple[str, ...]
    texts: tuple[tuple[str, str], ...] = ()
    """``(media, text)`` pairs the executor synthesises before playing (runtime texts)."""


@dataclass(frozen=True, slots=True)
class StopPlayback:
    playback_id: str


@dataclass(frozen=True, slots=True)
class Record:
    """Record the caller (a voice message) until a key of ``terminate_on`` or the limit."""

    channel_id: str
    name: str
    max_seconds: int
    terminate_on: str
    beep: bool = True


@dataclass(frozen=True, slots=True)
class StartTimer:
    """A voice-menu wait: the service calls the controller back when it expires."""

    call_id: str
    timer_id: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True)
class FetchInformation:
    """Ask the knowledge service for a topic's top answers; the reply goes back to the menu."""

    call_id: str
    topic: str
    service: str | None
    limit: int


@dataclass(frozen=True, slots=True)
class OriginateOperator:
    """Ring an operator's endpoint; the leg enters our application when answered."""

    leg_id: str
    agent: str
    call_id: str
    endpoint: str
    app_args: str
    timeout_s: int
    caller_id: str

    @classmethod
    def ring(
        cls,
        endpoint: str,
        *,
        call_id: str,
        seq: int,
        agent: str,
        ring_timeout: float,
        caller_id: str,
        extra_args: tuple[str, ...] = (),
    ) -> OriginateOperator:
        """The seat's leg for a router command: id `<call>-op<seq>` (the same after a restart,
        so Asterisk refuses a second originate), Stasis args `agent,<agent>,<call>[,extra]`."""
        return cls(
            leg_id=f"{call_id}-op{seq}",
            agent=agent,
            call_id=call_id,
            endpoint=endpoint,
            app_args=",".join(("agent", agent, call_id, *extra_args)),
            timeout_s=max(1, math.ceil(ring_timeout)),
            caller_id=caller_id,
        )


@dataclass(frozen=True, slots=True)
class OriginateCitizen:
    """Call a citizen back through the outbound trunk; the leg enters our application with
    ``citizen,<callback id>`` when answered. Its fixed ``leg_id`` makes a repeat harmless:
    Asterisk refuses a second channel with the same id while the first lives (409)."""

    leg_id: str
    callback_id: str
    endpoint: str
    app_args: str
    timeout_s: int
    caller_id: str


@dataclass(frozen=True, slots=True)
class ContinueInDialplan:
    """Hand the call to the dialplan (overflow trunk, blind transfer), with context variables
    the next hop reads (topic, language, original arrival, caller)."""

    channel_id: str
    context: str
    extension: str
    variables: Mapping[str, str] = field(default_factory=dict)


Action = (
    Answer
    | Hangup
    | EnsureHoldingBridge
    | AddToBridge
    | RemoveFromBridge
    | StartMusicOnHold
    | CreateMixingBridge
    | DestroyBridge
    | Play
    | StopPlayback
    | OriginateOperator
    | OriginateCitizen
    | ContinueInDialplan
    | Record
)


@dataclass(frozen=True, slots=True)
class FetchStatus:
    """Ask the complaints service for a complaint's status by its number and the last four
    digits of the caller's phone; the reply goes back to the menu (``on_status``). Until the
    service runs it, the menu's own wait ends the look-up as unavailable."""

    call_id: str
    number: str
    phone_last4: str


@dataclass(frozen=True, slots=True)
class SaveRecording:
    """Copy a finished voice message out of Asterisk into the recordings folder as
    ``<name>.wav``, then write ``fields`` plus ``file`` to ``stream`` for its follow-up."""

    name: str
    stream: str
    fields: Mapping[str, str]


MenuEffect = StartTimer | CancelTimer | FetchInformation | FetchStatus | SaveRecording
"""Work the service does itself (timers, HTTP), calling the controller back with the result."""
