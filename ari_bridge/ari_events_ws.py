"""Reader of the ARI event WebSocket, reconnecting with backoff.

Asterisk does not replay events missed while no WebSocket was connected, so after every
successful (re)connection the reader awaits ``on_connected`` *before* reading, which is where
the owner reconciles from ``GET /channels`` and ``GET /bridges``; if that fails with an
:class:`~ari_bridge.ari_errors.AriError` the connection is dropped and retried, so events are
never read without a reconciled starting point. It runs on the first
connection too: calls may already be in Stasis when the bridge starts. Events that arrive while
``on_connected`` runs wait in the socket and are handled after it; the translator drops any
that reconciliation already covered.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from ari_bridge.ari_errors import AriError
from ari_bridge.backoff import Backoff
from services.common.cancel import raise_if_cancelling

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
ConnectedHook = Callable[[], Awaitable[None]]


def events_url(base_ws_url: str, app: str) -> str:
    """``ws://host:8088/ari`` + app → the ``/events`` URL (``GET /events?app=``)."""
    return f"{base_ws_url.rstrip('/')}/events?{urlencode({'app': app})}"


class AriEventStream:
    """Delivers each ARI event (parsed JSON) to ``on_event``, for as long as :meth:`run` runs."""

    def __init__(
        self,
        url: str,
        *,
        username: str,
        password: str,
        on_event: EventHandler,
        on_connected: ConnectedHook,
        backoff: Backoff | None = None,
        open_timeout_s: float = 10.0,
    ) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._url = url
        self._headers = {"Authorization": f"Basic {token}"}
        self._on_event = on_event
        self._on_connected = on_connected
        self._backoff = backoff or Backoff()
        self._open_timeout_s = open_timeout_s
        self.connected = asyncio.Event()
        self.connections = 0

    async def run(self) -> None:
        """Connect, reconcile, read, reconnect forever; cancel the task to stop.

        A dead peer is noticed by websockets' own keep-alive pings (20 s by default).
        """
        failures = 0
        while True:
            try:
                async with connect(
                    self._url, additional_headers=self._headers, open_timeout=self._open_timeout_s
                ) as socket:
                    self.connections += 1
                    log.info("ari websocket connected", extra={"connections": self.connections})
                    await self._on_connected()
                    failures = 0
                    self.connected.set()
                    await self._read(socket)
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed, AriError) as exc:
                log.warning("ari websocket lost: %s", exc)
            self.connected.clear()
            failures += 1
            await asyncio.sleep(self._backoff.delay(failures))

    async def _read(self, socket: ClientConnection) -> None:
        async for raw in socket:
            try:
                message = json.loads(raw)
            except ValueError:
                log.error("ari websocket sent non-JSON text; skipped")
                continue
            if isinstance(message, dict):
                await self._on_event(message)
                raise_if_cancelling()
