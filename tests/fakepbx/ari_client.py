"""A minimal ARI client for tests: REST over httpx, events over a real WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import websockets

from fakepbx.pbx import FakePbx

Event = dict[str, Any]


class AriSession:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.events: list[Event] = []
        self._arrived = asyncio.Condition()

    async def _listen(self, url: str, ready: asyncio.Event) -> None:
        async with websockets.connect(url) as ws:
            ready.set()
            async for message in ws:
                async with self._arrived:
                    self.events.append(json.loads(message))
                    self._arrived.notify_all()

    async def wait_for(
        self, event_type: str, where: Callable[[Event], bool] = lambda e: True, seconds: float = 5.0
    ) -> Event:
        """The first event of that type (matching ``where``) received so far or soon."""

        def found() -> Event | None:
            return next((e for e in self.events if e["type"] == event_type and where(e)), None)

        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: found() is not None)
        event = found()
        assert event is not None
        return event

    def of_channel(self, channel_id: str) -> list[str]:
        return [
            e["type"]
            for e in self.events
            if (e.get("channel") or e.get("peer") or {}).get("id") == channel_id
        ]


@contextlib.asynccontextmanager
async def ari_session(pbx: FakePbx) -> AsyncIterator[AriSession]:
    async with httpx.AsyncClient(
        base_url=pbx.ari_url + "/ari", auth=("okno", "okno"), timeout=5
    ) as client:
        session = AriSession(client)
        ready = asyncio.Event()
        listener = asyncio.get_running_loop().create_task(session._listen(pbx.events_url, ready))
        await asyncio.wait_for(ready.wait(), 5)
        try:
            yield session
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
