"""Structural comparison of ARI events: ids and times replaced by stable roles.

Channel ids become channel names with the Local/PJSIP sequence replaced by its order of first
appearance in the flow; bridge ids become bridge names; playback ids become their order of
appearance; timestamps and creation times are dropped.
"""

from __future__ import annotations

import re
from typing import Any

_SEQUENCE = re.compile(r"-([0-9a-f]{8})(;[12])?\b")
_DROP = {"timestamp", "creationtime"}


class Roles:
    def __init__(self) -> None:
        self.sequences: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def name(self, name: str) -> str:
        def repl(match: re.Match[str]) -> str:
            seq = self.sequences.setdefault(match[1], f"#{len(self.sequences)}")
            return f"-{seq}{match[2] or ''}"

        return _SEQUENCE.sub(repl, name)

    def learn(self, value: Any) -> None:
        """Collect id -> role from every channel, bridge and playback object in ``value``."""
        if isinstance(value, list):
            for item in value:
                self.learn(item)
        if not isinstance(value, dict):
            return
        if "id" in value and "name" in value and "dialplan" in value:
            self.ids.setdefault(value["id"], self.name(value["name"]))
        elif "id" in value and "bridge_type" in value:
            self.ids.setdefault(value["id"], f"bridge:{value['name']}")
        elif "id" in value and "media_uri" in value:
            count = sum(1 for role in self.ids.values() if role.startswith("playback"))
            self.ids.setdefault(value["id"], f"playback#{count}")
        for item in value.values():
            self.learn(item)

    def apply(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.apply(v) for k, v in value.items() if k not in _DROP}
        if isinstance(value, list):
            return [self.apply(v) for v in value]
        if isinstance(value, str):
            text = self.name(value)
            for raw, role in self.ids.items():
                text = text.replace(raw, role)
            return text
        return value


def normalise(events: list[Any], context: list[Any] = ()) -> list[Any]:  # type: ignore[assignment]
    """Normalise ``events``; ``context`` (e.g. the flow's events) only teaches ids."""
    roles = Roles()
    for item in [*context, *events]:
        roles.learn(item)
    return [roles.apply(event) for event in events]


def track(event: dict[str, Any]) -> str:
    """The object an event is about; events of one object keep their order in Asterisk."""
    for key in ("channel", "peer"):
        if isinstance(event.get(key), dict) and "name" in event[key]:
            return str(event[key]["name"])
    if "bridge" in event:
        return str(event["bridge"]["name"])
    if "playback" in event:
        return str(event["playback"]["target_uri"])
    if "recording" in event:
        return str(event["recording"]["target_uri"])
    if "endpoint" in event:
        return f"endpoint:{event['endpoint']['resource']}"
    if "device_state" in event:
        return f"endpoint:{event['device_state']['name'].partition('/')[2]}"
    return event["type"]
