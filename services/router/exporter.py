"""What the router process serves on `/metrics`: its router's counters and live gauges, and
the lag of every consumer group on the centre's streams (events, commands, router-log)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from redis.exceptions import RedisError

from services.common.streams import Streams
from services.router.metrics import LiveCollector
from services.router.runner import RouterRunner
from services.router.wire import COMMANDS, EVENTS, ROUTER_LOG

#: Streams whose consumer groups are watched (each group is one kind of consumer).
WATCHED = (EVENTS, COMMANDS, ROUTER_LOG)
#: When Redis does not report a group's lag (Redis < 7), count at most this many entries.
_COUNT_CAP = 100_000
_log = structlog.get_logger(__name__)


class StreamLag(Collector):
    """Per stream and consumer group: entries not yet delivered, and delivered but not acked.

    Redis is asked in `refresh` (awaited before each scrape); `collect` reports the answers."""

    def __init__(self, streams: Streams, centre: str) -> None:
        self.streams = streams
        self.centre = centre
        self.groups: list[tuple[str, str, int, int]] = []

    async def refresh(self) -> None:
        redis: Any = self.streams.client
        groups = []
        for stream in WATCHED:
            key = self.streams.key(stream)
            if not await redis.exists(key):
                continue
            for info in await redis.xinfo_groups(key):
                lag = info.get("lag")
                if lag is None:
                    newer = await redis.xrange(
                        key, min=f"({info['last-delivered-id']}", max="+", count=_COUNT_CAP
                    )
                    lag = len(newer)
                groups.append((stream, str(info["name"]), int(lag), int(info["pending"])))
        self.groups = groups

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "okno_stream_lag_entries",
            "Stream entries not yet delivered to a consumer group.",
            labels=["centre", "stream", "group"],
        )
        pending = GaugeMetricFamily(
            "okno_stream_pending_entries",
            "Stream entries delivered to a consumer group but not acknowledged yet.",
            labels=["centre", "stream", "group"],
        )
        for stream, group, behind, unacked in self.groups:
            lag.add_metric([self.centre, stream, group], float(behind))
            pending.add_metric([self.centre, stream, group], float(unacked))
        yield lag
        yield pending


class RouterExporter:
    """Renders the router process's metrics (the runner's registry changes at each restore)."""

    def __init__(self, runner: RouterRunner, streams: Streams) -> None:
        self.runner = runner
        centre = runner.config.centre
        self.lag = StreamLag(streams, centre)
        self.registry = CollectorRegistry()
        self.registry.register(LiveCollector(centre, runner.live, lambda: runner.lease.held))
        self.registry.register(self.lag)

    async def render(self) -> bytes:
        """The exposition text; stream lag keeps its last figures if Redis does not answer."""
        try:
            async with asyncio.timeout(2):
                await self.lag.refresh()
        except (TimeoutError, OSError, RedisError) as exc:
            _log.warning("stream lag not refreshed", error=str(exc))
        return generate_latest(self.registry) + generate_latest(self.runner.metrics.registry)
