"""The router process: one active instance per centre (a Redis lease), standbys wait.

It reads router events from the `events` stream, applies each to the pure core with the
current time, and in ONE Redis transaction appends the event and its outputs to the
`router-log`, writes the executable commands to the `commands` stream and acknowledges the
event. A new holder rebuilds the core's state by replaying the router log, so a crash or a
takeover loses nothing and repeats nothing: events already in the log are skipped.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import structlog

from services.acd import commands as c
from services.acd.config import RouterConfig
from services.acd.events import Event, ScheduleTick
from services.acd.router import RouterState
from services.common.lease import Lease
from services.common.streams import Entry, Streams
from services.router.wire import (
    COMMANDS,
    EVENTS,
    EXECUTABLE,
    ROUTER_LOG,
    command_fields,
    event_fields,
    event_from_fields,
)

GROUP = "router"
_log = structlog.get_logger(__name__)


class LeaseLost(Exception):
    """Another instance holds the lease now; this one must stop acting at once."""


def _stream_id(entry_id: str) -> tuple[int, int]:
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


class RouterRunner:
    """Runs the core for one centre while holding the centre's router lease."""

    def __init__(
        self,
        *,
        config: RouterConfig,
        streams: Streams,
        lease: Lease,
        consumer: str,
        clock: Callable[[], float] = time.time,
        renew_every_s: float = 1.0,
        poll_s: float = 0.5,
    ) -> None:
        self.config = config
        self.streams = streams
        self.lease = lease
        self.consumer = consumer
        self.clock = clock
        self.renew_every_s = renew_every_s
        self.poll_s = poll_s
        self.state = RouterState(config)
        self.active = asyncio.Event()
        self._last_source: tuple[int, int] | None = None

    async def run(self) -> None:
        """Wait as a standby until the lease is ours, then route until cancelled or lost."""
        await self.lease.wait_acquire(poll_s=self.poll_s)
        _log.info("router lease acquired", centre=self.config.centre, consumer=self.consumer)
        try:
            await self._restore()
            self.active.set()
            async with asyncio.TaskGroup() as group:
                group.create_task(self._keep_lease())
                group.create_task(self._route())
        finally:
            self.active.clear()
            if self.lease.held:
                await self._release_quietly()

    async def _release_quietly(self) -> None:
        """Hand the lease over at once; if Redis does not answer, it expires by itself."""
        try:
            async with asyncio.timeout(2):
                await self.lease.release()
        except (TimeoutError, OSError) as exc:
            _log.warning("router lease not released; it will expire", error=str(exc))

    async def _keep_lease(self) -> None:
        while True:
            await asyncio.sleep(self.renew_every_s)
            if not await self.lease.renew():
                raise LeaseLost(f"router lease of {self.config.centre} lost")

    async def _restore(self) -> None:
        """Rebuild state from the router log (a fresh state if the log is empty)."""
        redis: Any = self.streams.client
        key = self.streams.key(ROUTER_LOG)
        state = RouterState(self.config)
        start, replayed = "-", 0
        while True:
            chunk = await redis.xrange(key, min=start, max="+", count=5000)
            if not chunk:
                break
            for _entry_id, fields in chunk:
                state.apply(event_from_fields(fields), float(fields["now"]))
                if fields.get("source"):
                    self._last_source = _stream_id(fields["source"])
                replayed += 1
            start = f"({chunk[-1][0]}"
        self.state = state
        _log.info("router state restored", events=replayed)

    async def _route(self) -> None:
        await self.streams.ensure_group(EVENTS, GROUP)
        backlog = await self.streams.read_pending(EVENTS, GROUP, self.consumer, count=10_000)
        backlog += await self.streams.reclaim(
            EVENTS, GROUP, self.consumer, min_idle_ms=0, count=10_000
        )
        for entry in backlog:
            await self._apply_entry(entry)
        while True:
            entries = await self.streams.read(
                EVENTS, GROUP, self.consumer, count=200, block_ms=self._block_ms()
            )
            for entry in entries:
                await self._apply_entry(entry)
            due = self.state.next_timer()
            if due is not None and self.clock() >= due:
                await self._apply(ScheduleTick(), source=None)

    def _block_ms(self) -> int:
        due = self.state.next_timer()
        if due is None:
            return 1000
        return int(min(1000.0, max(5.0, (due - self.clock()) * 1000)))

    async def _apply_entry(self, entry: Entry) -> None:
        if self._last_source is not None and _stream_id(entry.id) <= self._last_source:
            await self.streams.ack(EVENTS, GROUP, entry.id)  # applied before a restart
            return
        try:
            event = event_from_fields(entry.fields)
        except (ValueError, TypeError) as exc:
            _log.warning("unreadable router event dropped", entry=entry.id, error=str(exc))
            await self.streams.ack(EVENTS, GROUP, entry.id)
            return
        await self._apply(event, source=entry.id)

    async def _apply(self, event: Event, *, source: str | None) -> None:
        now = self.clock()
        outputs = self.state.apply(event, now)
        await self._commit(event, now, outputs, source)
        if source is not None:
            self._last_source = _stream_id(source)

    async def _commit(
        self, event: Event, now: float, outputs: list[c.Command], source: str | None
    ) -> None:
        redis: Any = self.streams.client
        async with redis.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.streams.key(ROUTER_LOG),
                {
                    **event_fields(event),
                    "now": repr(now),
                    "source": source or "",
                    "outputs": json.dumps(
                        [c.command_to_record(o) for o in outputs], ensure_ascii=False
                    ),
                },
            )
            for output in outputs:
                if isinstance(output, EXECUTABLE):
                    pipe.xadd(self.streams.key(COMMANDS), command_fields(output), maxlen=1_000_000)
            if source is not None:
                pipe.xack(self.streams.key(EVENTS), GROUP, source)
            await pipe.execute()
