"""Bridges: creation, membership, music on hold, and the quirks recorded from Asterisk 22.

* The creating app gets no BridgeCreated; it is subscribed to a bridge while one of its
  channels is in it, and a ``removeChannel`` of its last channel unsubscribes it (so a later
  DELETE reports no BridgeDestroyed), while a hang-up inside the bridge does not.
* A two-party mixing bridge sets ``BRIDGEPEER`` and swaps connected lines of its members.
* Bridge MOH stops when the last channel leaves (later DELETE .../moh -> 409).
"""

from __future__ import annotations

import time
import uuid

from fakepbx.errors import AriError, not_in_stasis
from fakepbx.objects import Bridge, CallerId, Channel
from fakepbx.phones import Phones


class Bridging(Phones):
    def create_bridge(self, *, bridge_type: str, name: str, bridge_id: str | None) -> Bridge:
        if bridge_id is not None and bridge_id in self.bridges:
            raise AriError(409, "Bridge with id already exists")
        kinds = {k.strip() for k in bridge_type.split(",") if k.strip()}
        bridge = Bridge(
            bridge_id or str(uuid.uuid4()),
            "holding" if "holding" in kinds else "mixing",
            name,
            time.time(),
        )
        self.bridges[bridge.id] = bridge
        self.notify.bridge_created(bridge)
        return bridge

    def add_channels(self, bridge: Bridge, channel_ids: list[str]) -> None:
        if not channel_ids:
            raise AriError(400, "Missing parameter channel")
        members = []
        for channel_id in channel_ids:
            ch = self.channels.get(channel_id)
            if ch is None:
                raise AriError(422, "Channel not found")
            if ch.stasis_app is None:
                raise not_in_stasis()
            members.append(ch)
        for ch in members:
            if ch.bridge_id == bridge.id:
                continue
            if ch.bridge_id is not None:
                self.leave_bridge(ch, removed=True)
            bridge.channels.append(ch.id)
            ch.bridge_id = bridge.id
            if ch.stasis_app is not None:
                self.bus.app(ch.stasis_app).bridge_ids[bridge.id] = None
            self.notify.entered_bridge(bridge, ch)
        if bridge.bridge_type == "mixing" and len(bridge.channels) == 2:
            self._pair_up(*(self.channels[c] for c in bridge.channels))

    def _pair_up(self, first: Channel, second: Channel) -> None:
        first.bridgepeer, second.bridgepeer = second.name, first.name
        self.notify.varset(first, "BRIDGEPEER", first.bridgepeer)
        self.notify.varset(second, "BRIDGEPEER", second.bridgepeer)
        first.connected = CallerId(second.caller.name, second.caller.number)
        second.connected = CallerId(first.caller.name, first.caller.number)
        for ch in (second, first):
            self.notify.connected_line(ch)
            self._propagate_through_local(ch)

    def _propagate_through_local(self, ch: Channel) -> None:
        """A Local ;1 passes its new connected line to ;2 as caller id, reported later."""
        two = self.peer(ch)
        if ch.half == 1 and two is not None and not two.destroyed:
            two.pending_caller = CallerId(ch.connected.name, ch.connected.number)

    def remove_channel(self, bridge: Bridge, channel_id: str) -> None:
        ch = self.channels.get(channel_id)
        if ch is None:
            raise AriError(422, "Channel not found")
        if ch.bridge_id != bridge.id:
            raise AriError(422, "Channel not in this bridge")
        self.leave_bridge(ch, removed=True)

    def leave_bridge(self, ch: Channel, *, removed: bool) -> None:
        bridge = self.bridges.get(ch.bridge_id or "")
        ch.bridge_id = None
        if bridge is None:
            return
        if ch.bridgepeer:
            ch.bridgepeer = ""
            self.notify.varset(ch, "BRIDGEPEER", "")
        bridge.channels.remove(ch.id)
        self.notify.left_bridge(bridge, ch)
        if removed and ch.stasis_app is not None:
            still_there = any(
                self.channels[c].stasis_app == ch.stasis_app
                for c in bridge.channels
                if c in self.channels
            )
            if not still_there:
                self.bus.app(ch.stasis_app).bridge_ids.pop(bridge.id, None)
        if not bridge.channels and bridge.moh_class is not None:
            bridge.moh_class = None  # the announcer is kicked with the last real channel
            self.bus.ami(
                "DeviceStateChange", "call", [("Device", "Announcer/ARI_MOH"), ("State", "UNKNOWN")]
            )

    def destroy_bridge(self, bridge: Bridge) -> None:
        for channel_id in list(bridge.channels):
            ch = self.channels.get(channel_id)
            if ch is not None:
                self.leave_bridge(ch, removed=False)
        self.notify.bridge_destroyed(bridge)
        for app in self.bus.apps.values():
            app.bridge_ids.pop(bridge.id, None)
        del self.bridges[bridge.id]

    def start_moh(self, bridge: Bridge, moh_class: str) -> None:
        bridge.moh_class = moh_class or "default"

    def stop_moh(self, bridge: Bridge) -> None:
        if bridge.moh_class is None:
            raise AriError(409, "Bridge isn't playing music")
        bridge.moh_class = None
