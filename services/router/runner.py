"""The router process: one active instance per centre (a Redis lease), standbys wait.

It reads router events from the `events` stream, applies each to the pure core with the
current time, and in ONE Redis transaction appends the event and its outputs to the
`router-log`, writes the executable commands to the `commands` stream and acknowledges the
event. A new holder rebuilds the core's state by replaying the router log, so a crash or a
takeover loses nothing and repeats nothing: events already in the log are skipped.

Every applied event (replayed ones too) also feeds the metrics (`metrics.RouterMetrics`) and
the agents' time in state (`StateSince`); while routing, the live state document is written
to Redis every second (`live.py`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from redis.exceptions import RedisError

from services.acd import commands as c
from services.acd.config import RouterConfig
from services.acd.events import CallbackRequested, Event, ScheduleTick
from services.acd.router import RouterState
from services.acd.wallboard import StateSince, agents_named, agents_touched, live_document
from services.common.cancel import raise_if_cancelling
from services.common.lease import Lease
from services.common.streams import Entry, Streams, entry_order
from services.router.live import publish_live
from services.router.metrics import RouterMetrics
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
        live_key: str | None = None,
        live_every_s: float = 1.0,
        resume: Callable[[], Awaitable[Sequence[Event]]] | None = None,
    ) -> None:
        self.config = config
        self.streams = streams
        self.lease = lease
        self.consumer = consumer
        self.clock = clock
        self.renew_every_s = renew_every_s
        self.poll_s = poll_s
        self.live_key = live_key
        self.live_every_s = live_every_s
        self.resume = resume
        self.state = RouterState(config)
        self.metrics = self._new_metrics()
        self.since = StateSince()
        self.active = asyncio.Event()
        self._last_source: tuple[int, int] | None = None

    def _new_metrics(self) -> RouterMetrics:
        config = self.config
        return RouterMetrics(
            config.centre,
            answer_within=config.answer_within_seconds,
            callback_within=config.callback_within_seconds,
            timezone=config.night.timezone,
        )

    def live(self) -> tuple[RouterState, RouterMetrics, float] | None:
        """State, metrics and the time now while routing; None as a standby."""
        if not self.active.is_set():
            return None
        return self.state, self.metrics, self.clock()

    async def run(self) -> None:
        """Wait as a standby until the lease is ours, then route until cancelled or lost."""
        await self.lease.wait_acquire(poll_s=self.poll_s)
        _log.info("router lease acquired", centre=self.config.centre, consumer=self.consumer)
        try:
            async with asyncio.TaskGroup() as group:
                # The lease is renewed while the log replays: a long replay must not let a
                # standby take over and route beside this instance.
                group.create_task(self._keep_lease())
                seen = await self._restore()
                if self.resume is not None:
                    await self._resume(self.resume, seen)
                self.active.set()
                group.create_task(self._route())
                if self.live_key is not None:
                    group.create_task(self._publish_live(self.live_key))
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

    async def _restore(self) -> set[str]:
        """Rebuild state from the router log (a fresh state if the log is empty); returns the
        ids of every callback the log has seen, open or finished."""
        redis: Any = self.streams.client
        key = self.streams.key(ROUTER_LOG)
        self.state = RouterState(self.config)
        self.metrics = self._new_metrics()
        self.since = StateSince()
        start, replayed, now = "-", 0, 0.0
        seen: set[str] = set()
        while True:
            chunk = await redis.xrange(key, min=start, max="+", count=5000)
            raise_if_cancelling()
            if not chunk:
                break
            for _entry_id, fields in chunk:
                now = float(fields["now"])
                event = event_from_fields(fields)
                if isinstance(event, CallbackRequested):
                    seen.add(event.callback_id)
                self._step(event, now)
                if fields.get("source"):
                    self._last_source = entry_order(fields["source"])
                replayed += 1
            start = f"({chunk[-1][0]}"
        if replayed:
            self.since.sweep(self.state, now)
        _log.info("router state restored", events=replayed)
        return seen

    async def _resume(
        self, resume: Callable[[], Awaitable[Sequence[Event]]], seen: set[str]
    ) -> None:
        """Open callbacks the router log never saw (Redis lost, flushed or restored from an
        older snapshot): apply what `resume` returns for them — the callbacks PostgreSQL holds
        as open, with their original request times — so the promises keep their deadlines.
        Each lands in the log, so a later restart replays them instead of resuming them
        twice; one the log already has (even finished) is left to the log."""
        missing = [
            event
            for event in await resume()
            if not (isinstance(event, CallbackRequested) and event.callback_id in seen)
        ]
        for event in missing:
            await self._apply(event, source=None)
        if missing:
            _log.info("router resumed open callbacks from the database", events=len(missing))

    def _step(self, event: Event, now: float) -> list[c.Command]:
        """Apply one event to the core and feed the metrics and the agents' time in state."""
        touched = agents_touched(self.state, event, now)
        outputs = self.state.apply(event, now)
        self.metrics.observe(event, now, outputs)
        self.since.update(self.state, touched | agents_named(outputs), now)
        return outputs

    async def _publish_live(self, key: str) -> None:
        """Write the live document every `live_every_s`; a failed write is retried next time."""
        redis: Any = self.streams.client
        while True:
            now = self.clock()
            self.since.sweep(self.state, now)
            self.metrics.check_late(now)
            try:
                async with asyncio.timeout(max(1.0, self.live_every_s)):
                    figures = self.metrics.figures(now)
                    document = live_document(self.state, now, self.since.states, figures)
                    await publish_live(redis, key, document)
            except (TimeoutError, OSError, RedisError) as exc:
                _log.warning("live state not written", error=str(exc))
            raise_if_cancelling()
            await asyncio.sleep(self.live_every_s)

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
        if self._last_source is not None and entry_order(entry.id) <= self._last_source:
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
        outputs = self._step(event, now)
        await self._commit(event, now, outputs, source)
        if source is not None:
            self._last_source = entry_order(source)

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
