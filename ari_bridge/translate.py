"""The one place that reads raw Asterisk data: ARI JSON and AMI messages in, domain events out.

The translator is a plain, synchronous state machine (no I/O, no clock) so the recorded traces
can be replayed into it directly. It tracks which channel ids are callers, which are operator
legs the bridge originated, and ignores everything else (the ``;2`` halves of Local channels,
the hidden MOH announcer, other applications' channels).

Rules it enforces, from the recorded behaviour of Asterisk 22 (traces/MANIFEST.md):

* a caller's life ends at ``StasisEnd`` (never a ``ChannelDestroyed``); whether the caller hung
  up, the bridge hung up, or the call continued in the dialplan is decided by the first
  ``ChannelHangupRequest`` seen before it (``soft`` = the bridge's own DELETE);
* an originated leg that was never answered ends only with ``ChannelDestroyed`` (cause 19 on
  ring timeout, with no final ``Dial`` event);
* every call and every leg ends exactly once: ended ids are remembered (bounded) and later
  events for them, duplicates and re-deliveries are dropped. Events are handled in delivery
  order; timestamps are carried, never used for ordering.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ari_bridge.events import (
    AgentAnswered,
    AgentHungUp,
    AgentLegRinging,
    AgentNoAnswer,
    CallArrived,
    CallerHungUp,
    CallLeftApplication,
    CallReleased,
    CitizenAnswered,
    CitizenHungUp,
    CitizenUnreached,
    DeviceState,
    DomainEvent,
    DtmfReceived,
    PlaybackFinished,
    RecordingFinished,
)
from ari_bridge.presence import Presence

_DEVICE_STATES = {
    "NOT_INUSE": DeviceState.NOT_IN_USE,
    "INUSE": DeviceState.IN_USE,
    "BUSY": DeviceState.BUSY,
    "RINGING": DeviceState.RINGING,
    "RINGINUSE": DeviceState.RING_IN_USE,
    "ONHOLD": DeviceState.ON_HOLD,
    "UNAVAILABLE": DeviceState.UNAVAILABLE,
    "INVALID": DeviceState.INVALID,
    "UNKNOWN": DeviceState.UNKNOWN,
}
_PEER_ONLINE = {"Reachable": True, "Registered": True, "Unreachable": False, "Unregistered": False}
_CONTACT_UP = {"Created", "Reachable", "NonQualified", "Updated"}
_CONTACT_DOWN = {"Removed", "Unreachable"}
_Q850_BUSY = 17
_Q850_NO_ANSWER = 19
_Q850_NO_RESPONSE = 18  # "No user responding": the far network gave up before ringing ended
_ENDED_MEMORY = 4096


@dataclass
class _HangupRequest:
    cause: int
    soft: bool


@dataclass
class _Call:
    hangup: _HangupRequest | None = None


@dataclass
class _Leg:
    """An originated leg: an operator's (``citizen=False``; ``call_id`` is the call or the
    callback it serves) or a callback's leg to the citizen (``call_id`` is the callback id)."""

    agent: str
    call_id: str | None
    citizen: bool = False
    callback_to: str | None = None
    answered: bool = False
    ringing: bool = False
    dial_status: str = ""
    hangup: _HangupRequest | None = None


class Translator:
    """Stateful ARI/AMI → domain event translator for one Stasis application."""

    def __init__(self, *, app: str = "okno", operator_tech: str = "PJSIP") -> None:
        self._app = app
        self._operator_prefix = f"{operator_tech}/"
        self._calls: dict[str, _Call] = {}
        self._legs: dict[str, _Leg] = {}
        self._ended: OrderedDict[str, None] = OrderedDict()
        self._presence = Presence(self._operator_prefix)

    # --- what the bridge tells the translator -------------------------------------------

    def expect_agent_leg(self, leg_id: str, *, agent: str, call_id: str | None) -> None:
        """Register a leg the bridge is about to originate (with ``channelId=leg_id``).

        Call it before the originate request: its first events can arrive before the response.
        """
        if leg_id not in self._ended and leg_id not in self._legs:
            self._legs[leg_id] = _Leg(agent=agent, call_id=call_id)

    def expect_citizen_leg(self, leg_id: str, *, callback_id: str) -> None:
        """Register a callback's leg to the citizen before originating it (as above)."""
        if leg_id not in self._ended and leg_id not in self._legs:
            self._legs[leg_id] = _Leg(agent="", call_id=callback_id, citizen=True)

    def leg_refused(self, leg_id: str) -> list[DomainEvent]:
        """Asterisk refused to originate a registered leg: it ends at once, unanswered."""
        leg = self._legs.get(leg_id)
        return [] if leg is None or leg.answered else [self._end_leg(leg_id, leg, None, None)]

    @property
    def live_call_ids(self) -> frozenset[str]:
        """Callers currently in the application, as far as the translator knows."""
        return frozenset(self._calls)

    # --- ARI ----------------------------------------------------------------------------

    def feed_ari(self, message: Mapping[str, Any]) -> list[DomainEvent]:
        """Translate one ARI WebSocket event."""
        at = _ari_time(message.get("timestamp"))
        kind = message.get("type")
        channel = message.get("channel") or {}
        channel_id = str(channel.get("id", ""))
        match kind:
            case "StasisStart":
                return self._stasis_start(channel, list(message.get("args") or []), at)
            case "StasisEnd":
                return self._stasis_end(channel_id, at)
            case "ChannelHangupRequest":
                self._hangup_request(channel_id, message)
                return []
            case "ChannelDestroyed":
                return self._destroyed(channel_id, _int_or_none(message.get("cause")), at)
            case "ChannelStateChange" if channel.get("state") == "Ringing":
                return self._ringing(channel_id, at)
            case "Dial":
                return self._dial(message, at)
            case "ChannelDtmfReceived" if channel_id in self._calls:
                digit, duration = str(message.get("digit", "")), message.get("duration_ms", 0)
                return [DtmfReceived(call_id=channel_id, digit=digit, duration_ms=duration, at=at)]
            case "PlaybackFinished":
                return self._playback_finished(message.get("playback") or {}, at)
            case "RecordingFinished" | "RecordingFailed":
                return self._recording_finished(message.get("recording") or {}, at)
            case "EndpointStateChange" | "ContactStatusChange":
                endpoint = message.get("endpoint") or {}
                state = endpoint.get("state")
                if state not in ("online", "offline"):
                    return []
                return self._presence.set_online(_endpoint_name(endpoint), state == "online", at)
            case "PeerStatusChange":
                online = _PEER_ONLINE.get(str((message.get("peer") or {}).get("peer_status")))
                if online is None:
                    return []
                return self._presence.set_online(
                    _endpoint_name(message.get("endpoint") or {}), online, at
                )
            case "DeviceStateChanged":
                device = message.get("device_state") or {}
                return self._set_device(str(device.get("name", "")), device.get("state"), at)
        return []

    def _stasis_start(
        self, channel: Mapping[str, Any], args: list[str], at: datetime | None
    ) -> list[DomainEvent]:
        channel_id = str(channel.get("id", ""))
        if not channel_id or channel_id in self._ended or channel_id in self._calls:
            return []
        if args[:1] == ["agent"] and len(args) >= 2:
            return self._agent_answered(channel_id, args, at)
        if args[:1] == ["citizen"] and len(args) >= 2:
            return self._citizen_answered(channel_id, args[1], at)
        if channel_id in self._legs:
            return []
        self._calls[channel_id] = _Call()
        return [_call_arrived(channel, args, at)]

    def _agent_answered(
        self, leg_id: str, args: list[str], at: datetime | None
    ) -> list[DomainEvent]:
        leg = self._legs.get(leg_id)
        if leg is None:
            leg = self._legs[leg_id] = _Leg(
                agent=args[1], call_id=args[2] if len(args) > 2 else None
            )
        if len(args) > 4 and args[3] == "callback":
            leg.callback_to = args[4]
        if leg.answered:
            return []
        leg.answered = True
        return [
            AgentAnswered(
                leg_id=leg_id,
                agent=leg.agent,
                call_id=leg.call_id,
                callback_to=leg.callback_to,
                at=at,
            )
        ]

    def _citizen_answered(
        self, leg_id: str, callback_id: str, at: datetime | None
    ) -> list[DomainEvent]:
        leg = self._legs.get(leg_id)
        if leg is None:
            leg = self._legs[leg_id] = _Leg(agent="", call_id=callback_id, citizen=True)
        if leg.answered:
            return []
        leg.answered = True
        return [CitizenAnswered(leg_id=leg_id, callback_id=callback_id, at=at)]

    def _stasis_end(self, channel_id: str, at: datetime | None) -> list[DomainEvent]:
        call = self._calls.get(channel_id)
        if call is not None:
            return [self._end_call(channel_id, call, at)]
        leg = self._legs.get(channel_id)
        if leg is not None and leg.answered:
            return [self._end_leg(channel_id, leg, None, at)]
        return []

    def _hangup_request(self, channel_id: str, message: Mapping[str, Any]) -> None:
        target: _Call | _Leg | None = self._calls.get(channel_id) or self._legs.get(channel_id)
        if target is not None and target.hangup is None:
            cause = _int_or_none(message.get("cause")) or 0
            target.hangup = _HangupRequest(cause=cause, soft=bool(message.get("soft", False)))

    def _destroyed(
        self, channel_id: str, cause: int | None, at: datetime | None
    ) -> list[DomainEvent]:
        call = self._calls.get(channel_id)
        if call is not None:
            if call.hangup is None:
                call.hangup = _HangupRequest(cause=cause or 0, soft=False)
            return [self._end_call(channel_id, call, at)]
        leg = self._legs.get(channel_id)
        if leg is not None:
            return [self._end_leg(channel_id, leg, cause, at)]
        return []

    def _ringing(self, leg_id: str, at: datetime | None) -> list[DomainEvent]:
        leg = self._legs.get(leg_id)
        if leg is None or leg.ringing or leg.answered or leg.citizen:
            return []
        leg.ringing = True
        return [AgentLegRinging(leg_id=leg_id, agent=leg.agent, call_id=leg.call_id, at=at)]

    def _dial(self, message: Mapping[str, Any], at: datetime | None) -> list[DomainEvent]:
        leg_id = str((message.get("peer") or {}).get("id", ""))
        status = str(message.get("dialstatus", ""))
        if status == "RINGING":
            return self._ringing(leg_id, at)
        leg = self._legs.get(leg_id)
        if leg is not None and status:
            leg.dial_status = status
        return []

    def _playback_finished(
        self, playback: Mapping[str, Any], at: datetime | None
    ) -> list[DomainEvent]:
        call_id = _channel_target(playback.get("target_uri"))
        if call_id not in self._calls:
            return []
        outcome = "done" if playback.get("state") == "done" else "failed"
        return [
            PlaybackFinished(
                call_id=call_id,
                playback_id=str(playback.get("id", "")),
                media_uri=str(playback.get("media_uri", "")),
                outcome=outcome,
                at=at,
            )
        ]

    def _recording_finished(
        self, recording: Mapping[str, Any], at: datetime | None
    ) -> list[DomainEvent]:
        call_id = _channel_target(recording.get("target_uri"))
        if call_id not in self._calls:
            return []
        state = recording.get("state")
        outcome = state if state in ("done", "canceled") else "failed"
        return [
            RecordingFinished(
                call_id=call_id,
                name=str(recording.get("name", "")),
                outcome=outcome,
                duration_s=_int_or_none(recording.get("duration")),
                at=at,
            )
        ]

    # --- endings, each exactly once -----------------------------------------------------

    def _end_call(self, call_id: str, call: _Call, at: datetime | None) -> DomainEvent:
        self._forget(call_id)
        if call.hangup is None:
            return CallLeftApplication(call_id=call_id, at=at)
        if call.hangup.soft:
            return CallReleased(call_id=call_id, at=at)
        return CallerHungUp(call_id=call_id, cause=call.hangup.cause or None, at=at)

    def _end_leg(
        self, leg_id: str, leg: _Leg, cause: int | None, at: datetime | None
    ) -> DomainEvent:
        self._forget(leg_id)
        by_bridge = leg.hangup is not None and leg.hangup.soft
        if leg.citizen:
            return _end_citizen_leg(leg_id, leg, cause, by_bridge, at)
        if leg.answered:
            return AgentHungUp(
                leg_id=leg_id,
                agent=leg.agent,
                call_id=leg.call_id,
                cause=_far_cause(leg, by_bridge) or cause,
                by_bridge=by_bridge,
                at=at,
            )
        unreached = _unreached(leg, cause, by_bridge)
        reason = "timeout" if unreached == "no_answer" else unreached
        return AgentNoAnswer(
            leg_id=leg_id, agent=leg.agent, call_id=leg.call_id, reason=reason, cause=cause, at=at
        )

    def _forget(self, channel_id: str) -> None:
        self._calls.pop(channel_id, None)
        self._legs.pop(channel_id, None)
        self._ended[channel_id] = None
        while len(self._ended) > _ENDED_MEMORY:
            self._ended.popitem(last=False)

    def _set_device(self, device: str, raw_state: object, at: datetime | None) -> list[DomainEvent]:
        state = _DEVICE_STATES.get(str(raw_state))
        return [] if state is None else self._presence.set_device(device, state, at)

    # --- AMI ----------------------------------------------------------------------------

    def feed_ami(self, message: Mapping[str, str]) -> list[DomainEvent]:
        """Translate one AMI event (headers as a mapping; responses are ignored)."""
        at = _ami_time(message.get("Timestamp"))
        match message.get("Event"):
            case "DeviceStateChange":
                return self._set_device(message.get("Device", ""), message.get("State"), at)
            case "PeerStatus":
                online = _PEER_ONLINE.get(message.get("PeerStatus", ""))
                if online is None:
                    return []
                return self._presence.set_online(message.get("Peer", ""), online, at)
            case "ContactStatus":
                return self._contact_status(message, at)
        return []

    def _contact_status(self, message: Mapping[str, str], at: datetime | None) -> list[DomainEvent]:
        endpoint = self._operator_prefix + message.get("EndpointName", "")
        status = message.get("ContactStatus", "")
        if status not in _CONTACT_UP and status not in _CONTACT_DOWN:
            return []
        uri = message.get("URI", "")
        return self._presence.set_contact(endpoint, uri, status in _CONTACT_UP, at)

    # --- after a WebSocket reconnect ----------------------------------------------------

    def reconcile(
        self, channels: Iterable[Mapping[str, Any]], bridges: Iterable[Mapping[str, Any]]
    ) -> list[DomainEvent]:
        """Resynchronise from ``GET /channels`` and ``GET /bridges`` after events were lost.

        Callers and answered legs found in this application that the translator does not know
        are announced; known calls and legs that vanished are ended (cause unknown: ``None``).
        A channel counts as in the application when its dialplan shows ``Stasis(<app>...)`` or
        it sits in a Stasis bridge.
        """
        by_id = {str(ch.get("id", "")): ch for ch in channels}
        in_stasis_bridge = {
            str(cid)
            for bridge in bridges
            if bridge.get("bridge_class") == "stasis"
            for cid in bridge.get("channels") or []
        }
        events: list[DomainEvent] = []
        for channel_id, channel in by_id.items():
            args = self._stasis_args(channel)
            if args is None and channel_id in in_stasis_bridge:
                args = []
            if args is not None:
                events += self._stasis_start(channel, args, None)
        for call_id in list(self._calls):
            present = by_id.get(call_id)
            if present is None:
                events.append(self._end_call(call_id, _Call(_HangupRequest(0, soft=False)), None))
            elif self._stasis_args(present) is None and call_id not in in_stasis_bridge:
                events.append(self._end_call(call_id, _Call(), None))
        for leg_id, leg in list(self._legs.items()):
            if leg_id not in by_id:
                events.append(self._end_leg(leg_id, leg, None, None))
        return events

    def _stasis_args(self, channel: Mapping[str, Any]) -> list[str] | None:
        dialplan = channel.get("dialplan") or {}
        if dialplan.get("app_name") != "Stasis":
            return None
        app, *args = str(dialplan.get("app_data", "")).split(",")
        return args if app == self._app else None


def _end_citizen_leg(
    leg_id: str, leg: _Leg, cause: int | None, by_bridge: bool, at: datetime | None
) -> DomainEvent:
    """How a callback leg to a citizen ended. Busy and no-answer are told apart as Asterisk
    reports them: ``ChannelDestroyed`` cause 17 (user busy), 19 (alerting, no answer: our
    originate timeout) or 18 (no user responding), or the last ``Dial`` status."""
    callback_id = leg.call_id or ""
    if leg.answered:
        return CitizenHungUp(
            leg_id=leg_id,
            callback_id=callback_id,
            cause=_far_cause(leg, by_bridge) or cause,
            by_bridge=by_bridge,
            at=at,
        )
    reason = _unreached(leg, cause, by_bridge)
    return CitizenUnreached(
        leg_id=leg_id, callback_id=callback_id, reason=reason, cause=cause, at=at
    )


def _far_cause(leg: _Leg, by_bridge: bool) -> int | None:
    """The cause the far end gave for hanging up an answered leg (None if we hung it up)."""
    return None if by_bridge or leg.hangup is None else leg.hangup.cause


def _unreached(
    leg: _Leg, cause: int | None, by_bridge: bool
) -> Literal["busy", "no_answer", "cancelled", "failed"]:
    """Why an originated leg (a seat or a citizen) was never answered."""
    if by_bridge:
        return "cancelled"
    if cause == _Q850_BUSY or leg.dial_status == "BUSY":
        return "busy"
    if cause in (_Q850_NO_ANSWER, _Q850_NO_RESPONSE) or leg.dial_status == "NOANSWER":
        return "no_answer"
    return "failed"


def _call_arrived(channel: Mapping[str, Any], args: list[str], at: datetime | None) -> CallArrived:
    dialplan = channel.get("dialplan") or {}
    caller = channel.get("caller") or {}
    did = args[1] if args[:1] == ["inbound"] and len(args) >= 2 else str(dialplan.get("exten", ""))
    created = _ari_time(channel.get("creationtime"))
    return CallArrived(
        call_id=str(channel["id"]),
        did=did,
        caller_number=str(caller.get("number", "")),
        caller_name=str(caller.get("name", "")),
        arrived_at=created or at,
        at=at,
    )


def _endpoint_name(endpoint: Mapping[str, Any]) -> str:
    return f"{endpoint.get('technology', '')}/{endpoint.get('resource', '')}"


def _channel_target(target_uri: object) -> str:
    kind, _, target = str(target_uri or "").partition(":")
    return target if kind == "channel" else ""


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ari_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value)


def _ami_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(float(value), tz=UTC)
