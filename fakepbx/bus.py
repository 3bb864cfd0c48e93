"""Routes ARI events to the applications subscribed to their subjects, and AMI events to
logged-in AMI sessions.

Subscriptions follow Asterisk: an app sees a channel it originated until the channel is
destroyed, a channel that entered Stasis until StasisEnd, a bridge from the moment one of its
channels entered it until that channel was *removed* (not hung up) from it. Events are lost
while an app has no WebSocket connected; reconnecting replays nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fakepbx.clock import ami_timestamp, ari_timestamp

ASTERISK_ID = "00:00:00:00:00:01"

# Fields Asterisk serialises before "type" (the traces keep this order).
_LEADING_FIELDS = {
    "ChannelHangupRequest": ("cause", "soft"),
    "ChannelVarset": ("variable", "value"),
}


@dataclass
class Application:
    name: str
    channel_ids: dict[str, None] = field(default_factory=dict)
    bridge_ids: dict[str, None] = field(default_factory=dict)
    endpoint_ids: dict[str, None] = field(default_factory=dict)
    device_names: dict[str, None] = field(default_factory=dict)
    sockets: list[asyncio.Queue[str]] = field(default_factory=list)

    def to_ari(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "channel_ids": list(self.channel_ids),
            "bridge_ids": list(self.bridge_ids),
            "endpoint_ids": list(self.endpoint_ids),
            "device_names": list(self.device_names),
            "events_allowed": [],
            "events_disallowed": [],
        }


AmiHeaders = list[tuple[str, str]]


class EventBus:
    """Fan-out of events; owns the applications and the AMI listener queues."""

    def __init__(self) -> None:
        self.apps: dict[str, Application] = {}
        self.ami_listeners: list[asyncio.Queue[str]] = []

    def app(self, name: str) -> Application:
        return self.apps.setdefault(name, Application(name))

    def emit(
        self,
        event_type: str,
        fields: dict[str, Any],
        *,
        channels: Iterable[str] = (),
        bridges: Iterable[str] = (),
        endpoint: str | None = None,
        device: str | None = None,
    ) -> None:
        """Deliver one event to every app subscribed to any of its subjects."""
        channel_ids, bridge_ids = list(channels), list(bridges)
        for app in list(self.apps.values()):
            if not (
                any(c in app.channel_ids for c in channel_ids)
                or any(b in app.bridge_ids for b in bridge_ids)
                or (endpoint is not None and endpoint in app.endpoint_ids)
                or (device is not None and device in app.device_names)
            ):
                continue
            message = self._message(event_type, fields, app.name)
            text = json.dumps(message, separators=(",", ":"))
            for queue in app.sockets:
                queue.put_nowait(text)

    @staticmethod
    def _message(event_type: str, fields: dict[str, Any], app: str) -> dict[str, Any]:
        leading = _LEADING_FIELDS.get(event_type, ())
        message: dict[str, Any] = {k: fields[k] for k in leading if k in fields}
        message["type"] = event_type
        if event_type == "DeviceStateChanged":
            message["application"] = app
        message["timestamp"] = ari_timestamp()
        message.update({k: v for k, v in fields.items() if k not in leading})
        message["asterisk_id"] = ASTERISK_ID
        message["application"] = app
        return message

    def ami(
        self, event: str, privilege: str, headers: AmiHeaders, *, timestamp: bool = True
    ) -> None:
        """Queue one AMI event (already rendered, CRLF-terminated) for every listener."""
        lines = [f"Event: {event}", f"Privilege: {privilege},all"]
        if timestamp:
            lines.append(f"Timestamp: {ami_timestamp()}")
        lines += [f"{key}: {value}" for key, value in headers]
        text = "\r\n".join(lines) + "\r\n\r\n"
        for queue in self.ami_listeners:
            queue.put_nowait(text)
