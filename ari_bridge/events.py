"""Typed, versioned domain events the bridge publishes for the ACD router.

Every event is a frozen pydantic model with a ``type`` discriminator and a schema version ``v``.
A Redis Stream entry is a flat ``str -> str`` mapping, so :func:`to_fields` writes one field per
attribute (``None`` is left out) and :func:`from_fields` validates it back through the union.

Ids: ``call_id`` is the caller's ARI channel id (the ``;2`` half of a Local channel in the
recorded set-up); ``leg_id`` is the ARI channel id of an operator leg the bridge originated.
``at`` is Asterisk's own timestamp of the underlying event; it is ``None`` when Asterisk gave
none (AMI list responses, or events synthesised by reconciliation after a reconnect).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

SCHEMA_VERSION: Literal[1] = 1


class DeviceState(StrEnum):
    """Asterisk device states, named for the router (``ast_devstate`` in Asterisk)."""

    NOT_IN_USE = "not_in_use"
    IN_USE = "in_use"
    BUSY = "busy"
    RINGING = "ringing"
    RING_IN_USE = "ring_in_use"
    ON_HOLD = "on_hold"
    UNAVAILABLE = "unavailable"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = SCHEMA_VERSION
    at: datetime | None = None


class CallArrived(_Event):
    """A caller's channel entered the Stasis application (a new call for the router)."""

    type: Literal["call_arrived"] = "call_arrived"
    call_id: str
    did: str
    caller_number: str
    caller_name: str
    arrived_at: datetime | None = Field(
        default=None, description="channel creation time: the caller waits from here"
    )


class DtmfReceived(_Event):
    """The caller pressed a key (reported at key-up)."""

    type: Literal["dtmf_received"] = "dtmf_received"
    call_id: str
    digit: str
    duration_ms: int


class CallerHungUp(_Event):
    """The caller hung up (or vanished while the event link was down).

    ``cause`` is the Q.850 cause Asterisk reported, ``None`` when the ending was found by
    reconciliation and the cause is unknown.
    """

    type: Literal["caller_hung_up"] = "caller_hung_up"
    call_id: str
    cause: int | None = None


class CallReleased(_Event):
    """The bridge hung the caller up (the router's own hang-up command took effect)."""

    type: Literal["call_released"] = "call_released"
    call_id: str


class CallLeftApplication(_Event):
    """The caller left Stasis alive: continued in the dialplan (blind transfer, overflow)."""

    type: Literal["call_left_application"] = "call_left_application"
    call_id: str


class PlaybackFinished(_Event):
    """A prompt played to a caller ended: ``done`` (also when stopped) or ``failed`` (hang-up)."""

    type: Literal["playback_finished"] = "playback_finished"
    call_id: str
    playback_id: str
    media_uri: str
    outcome: Literal["done", "failed"]


class RecordingFinished(_Event):
    """A recording of the caller ended; ``duration_s`` is absent when Asterisk gave none."""

    type: Literal["recording_finished"] = "recording_finished"
    call_id: str
    name: str
    outcome: Literal["done", "failed", "canceled"]
    duration_s: int | None = None


class AgentLegRinging(_Event):
    """The operator's phone is ringing for the leg the bridge originated."""

    type: Literal["agent_leg_ringing"] = "agent_leg_ringing"
    leg_id: str
    agent: str
    call_id: str | None = None


class AgentAnswered(_Event):
    """The operator answered: the leg entered Stasis with args ``["agent", <ext>]``.

    A callback's operator leg carries ``["agent", <ext>, <callback id>, "callback", <number>]``:
    ``callback_to`` is that number, so a restarted bridge can carry on dialling the citizen.
    """

    type: Literal["agent_answered"] = "agent_answered"
    leg_id: str
    agent: str
    call_id: str | None = None
    callback_to: str | None = None


class AgentNoAnswer(_Event):
    """An originated leg ended before the operator answered.

    ``reason``: ``timeout`` (ring timeout, cause 19 / NOANSWER), ``busy``, ``cancelled`` (the bridge
    hung the ringing leg up) or ``failed`` (anything else, e.g. unreachable endpoint).
    """

    type: Literal["agent_no_answer"] = "agent_no_answer"
    leg_id: str
    agent: str
    call_id: str | None = None
    reason: Literal["timeout", "busy", "cancelled", "failed"]
    cause: int | None = None


class AgentHungUp(_Event):
    """An answered operator leg ended; ``by_bridge`` when the bridge hung it up itself."""

    type: Literal["agent_hung_up"] = "agent_hung_up"
    leg_id: str
    agent: str
    call_id: str | None = None
    cause: int | None = None
    by_bridge: bool


class CitizenAnswered(_Event):
    """The citizen picked up a callback leg: it entered Stasis with ``["citizen", <callback>]``."""

    type: Literal["citizen_answered"] = "citizen_answered"
    leg_id: str
    callback_id: str


class CitizenUnreached(_Event):
    """A callback leg to a citizen ended unanswered.

    ``reason`` from Asterisk's Q.850 cause or final Dial status: ``busy`` (17 / BUSY),
    ``no_answer`` (19 or 18 / NOANSWER: the originate timeout or the network gave up),
    ``cancelled`` (the bridge hung it up), ``failed`` (anything else, or the originate refused).
    """

    type: Literal["citizen_unreached"] = "citizen_unreached"
    leg_id: str
    callback_id: str
    reason: Literal["busy", "no_answer", "cancelled", "failed"]
    cause: int | None = None


class CitizenHungUp(_Event):
    """An answered callback leg ended; ``by_bridge`` when the bridge hung it up itself."""

    type: Literal["citizen_hung_up"] = "citizen_hung_up"
    leg_id: str
    callback_id: str
    cause: int | None = None
    by_bridge: bool


class OperatorOnline(_Event):
    """An operator's softphone endpoint (e.g. ``PJSIP/op1001``) became reachable/registered."""

    type: Literal["operator_online"] = "operator_online"
    endpoint: str


class OperatorOffline(_Event):
    """An operator's softphone endpoint became unreachable/unregistered."""

    type: Literal["operator_offline"] = "operator_offline"
    endpoint: str


class OperatorDeviceState(_Event):
    """The device state of an operator's endpoint changed (in use, not in use, unavailable...)."""

    type: Literal["operator_device_state"] = "operator_device_state"
    endpoint: str
    state: DeviceState


DomainEvent: TypeAlias = Annotated[
    CallArrived
    | DtmfReceived
    | CallerHungUp
    | CallReleased
    | CallLeftApplication
    | PlaybackFinished
    | RecordingFinished
    | AgentLegRinging
    | AgentAnswered
    | AgentNoAnswer
    | AgentHungUp
    | CitizenAnswered
    | CitizenUnreached
    | CitizenHungUp
    | OperatorOnline
    | OperatorOffline
    | OperatorDeviceState,
    Field(discriminator="type"),
]

CALL_ENDINGS = (CallerHungUp, CallReleased, CallLeftApplication)
"""Exactly one of these is published per call."""

AGENT_LEG_ENDINGS = (AgentNoAnswer, AgentHungUp)
"""Exactly one of these is published per originated operator leg."""

CITIZEN_LEG_ENDINGS = (CitizenUnreached, CitizenHungUp)
"""Exactly one of these is published per callback leg to a citizen."""

_ADAPTER: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)


def to_fields(event: DomainEvent) -> dict[str, str]:
    """Flatten an event into a Redis Stream entry (every value a string, ``None`` omitted)."""
    fields: dict[str, str] = {}
    for key, value in event.model_dump(mode="json").items():
        if value is None:
            continue
        if isinstance(value, bool):
            fields[key] = "true" if value else "false"
        else:
            fields[key] = str(value)
    return fields


def from_fields(fields: dict[str, str]) -> DomainEvent:
    """Rebuild an event from a Redis Stream entry written by :func:`to_fields`."""
    data: dict[str, object] = dict(fields)
    if "v" in data:
        data["v"] = int(fields["v"])
    return _ADAPTER.validate_python(data)
