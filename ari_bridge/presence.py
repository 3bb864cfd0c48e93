"""Operators' endpoint presence, reported only when it changes.

The same registration reaches the bridge several times — ARI EndpointStateChange,
PeerStatusChange and ContactStatusChange, AMI PeerStatus and ContactStatus, on two links — so
the translator funnels all of them, already normalised, through one :class:`Presence` that
publishes a change once. It never sees raw Asterisk data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ari_bridge.events import (
    DeviceState,
    DomainEvent,
    OperatorDeviceState,
    OperatorOffline,
    OperatorOnline,
)


@dataclass
class Presence:
    """Last known online flag, live contacts and device state per operator endpoint."""

    operator_prefix: str
    _online: dict[str, bool] = field(default_factory=dict)
    _contacts: dict[str, set[str]] = field(default_factory=dict)
    _devices: dict[str, DeviceState] = field(default_factory=dict)

    def set_online(self, endpoint: str, online: bool, at: datetime | None) -> list[DomainEvent]:
        if not endpoint.startswith(self.operator_prefix) or self._online.get(endpoint) == online:
            return []
        self._online[endpoint] = online
        if online:
            return [OperatorOnline(endpoint=endpoint, at=at)]
        return [OperatorOffline(endpoint=endpoint, at=at)]

    def set_contact(
        self, endpoint: str, uri: str, up: bool, at: datetime | None
    ) -> list[DomainEvent]:
        """One contact (registration) of an AOR came or went; online while any is up."""
        contacts = self._contacts.setdefault(endpoint, set())
        if up:
            contacts.add(uri)
        else:
            contacts.discard(uri)
        return self.set_online(endpoint, bool(contacts), at)

    def set_device(self, device: str, state: DeviceState, at: datetime | None) -> list[DomainEvent]:
        if not device.startswith(self.operator_prefix) or self._devices.get(device) == state:
            return []
        self._devices[device] = state
        return [OperatorDeviceState(endpoint=device, state=state, at=at)]
