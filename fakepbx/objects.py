"""The PBX's live objects and their ARI JSON shapes (models of ``ari-api-docs``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakepbx.clock import ari_timestamp

Json = dict[str, Any]

# AMI numeric channel states, as in ``ChannelState:`` headers.
AMI_STATE_CODES = {
    "Down": 0,
    "Rsrved": 1,
    "OffHook": 2,
    "Dialing": 3,
    "Ring": 4,
    "Ringing": 5,
    "Up": 6,
    "Busy": 7,
}


@dataclass
class CallerId:
    name: str = ""
    number: str = ""

    def to_ari(self) -> Json:
        return {"name": self.name, "number": self.number}


@dataclass
class Dialplan:
    context: str
    exten: str
    priority: int = 1
    app_name: str = ""
    app_data: str = ""

    def to_ari(self) -> Json:
        return {
            "context": self.context,
            "exten": self.exten,
            "priority": self.priority,
            "app_name": self.app_name,
            "app_data": self.app_data,
        }


@dataclass
class Channel:
    """One channel. ``peer_id`` links the two halves of a Local channel pair."""

    id: str
    name: str
    state: str
    caller: CallerId
    connected: CallerId
    dialplan: Dialplan
    created: float
    peer_id: str | None = None
    half: int = 0  # 1 or 2 for Local halves, 0 otherwise
    endpoint: str | None = None  # "PJSIP/op1001" for channels of a PJSIP endpoint
    stasis_app: str | None = None
    originated_app: str | None = None  # set by POST /channels?app=...: subscribed until destroyed
    originated_app_args: list[str] = field(default_factory=list)
    dialstring: str = ""
    bridge_id: str | None = None
    bridgepeer: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    destroyed: bool = False
    hangup_started: bool = False
    pending_caller: CallerId | None = None  # caller-id update a Local ;2 has not reported yet

    def to_ari(self) -> Json:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": "",
            "caller": self.caller.to_ari(),
            "connected": self.connected.to_ari(),
            "accountcode": "",
            "dialplan": self.dialplan.to_ari(),
            "creationtime": ari_timestamp(self.created),
            "language": "en",
        }


@dataclass
class Bridge:
    id: str
    bridge_type: str
    name: str
    created: float
    channels: list[str] = field(default_factory=list)
    moh_class: str | None = None

    @property
    def technology(self) -> str:
        return "holding_bridge" if self.bridge_type == "holding" else "simple_bridge"

    def to_ari(self) -> Json:
        return {
            "id": self.id,
            "technology": self.technology,
            "bridge_type": self.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": self.name,
            "channels": list(self.channels),
            "creationtime": ari_timestamp(self.created),
            "video_mode": "talker",
        }


@dataclass
class Playback:
    id: str
    media: list[str]
    target_uri: str
    language: str
    state: str = "queued"
    index: int = 0

    def to_ari(self) -> Json:
        body: Json = {
            "id": self.id,
            "media_uri": self.media[self.index],
            "target_uri": self.target_uri,
            "language": self.language,
            "state": self.state,
        }
        if self.index + 1 < len(self.media):
            body["next_media_uri"] = self.media[self.index + 1]
        return body


@dataclass
class LiveRecording:
    name: str
    format: str
    target_uri: str
    channel_id: str
    terminate_on: str
    started_at: float
    state: str = "queued"
    duration: int | None = None

    def to_ari(self) -> Json:
        body: Json = {
            "name": self.name,
            "format": self.format,
            "state": self.state,
            "target_uri": self.target_uri,
        }
        if self.duration is not None:
            body["duration"] = self.duration
        return body


@dataclass
class Endpoint:
    """A PJSIP endpoint (an operator seat or a trunk) and its single registered contact."""

    resource: str
    is_trunk: bool = False
    contact_uri: str | None = None
    channel_ids: list[str] = field(default_factory=list)

    @property
    def online(self) -> bool:
        return self.is_trunk or self.contact_uri is not None

    @property
    def device_state(self) -> str:
        if not self.online:
            return "UNAVAILABLE"
        return "INUSE" if self.channel_ids else "NOT_INUSE"

    def to_ari(self) -> Json:
        return {
            "technology": "PJSIP",
            "resource": self.resource,
            "state": "online" if self.online else "offline",
            "channel_ids": list(self.channel_ids),
        }
