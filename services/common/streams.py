"""Redis Streams with consumer groups: the event and command buses of the bridge and the router.

Delivery is at-least-once: an entry stays pending until acknowledged, so a consumer acks only
after it has acted, and a restarted or replacement consumer reclaims what a dead one left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from services.common.cancel import raise_if_cancelling


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: its id and flat string fields."""

    stream: str
    id: str
    fields: dict[str, str]


def entry_order(entry_id: str) -> tuple[int, int]:
    """A stream entry id (`millis-seq`) as a pair that compares in stream order."""
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


class Streams:
    """Stream operations under a key prefix (a centre, or one test run)."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    @property
    def client(self) -> Any:
        """The Redis client, for transactions that span several streams."""
        return self._redis

    def key(self, stream: str) -> str:
        """The Redis key of a logical stream name."""
        return f"{self._prefix}:stream:{stream}"

    async def ensure_group(self, stream: str, group: str, *, start: str = "0") -> None:
        """Create the consumer group (and the stream) if it does not exist yet."""
        try:
            await self._redis.xgroup_create(self.key(stream), group, id=start, mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def add(
        self, stream: str, fields: Mapping[str, str], *, maxlen: int | None = 1_000_000
    ) -> str:
        """Append an entry; the stream is trimmed approximately to `maxlen` entries."""
        redis: Any = self._redis  # redis-py's stubs mix sync and async return types
        entry_id: str = await redis.xadd(
            self.key(stream), dict(fields), maxlen=maxlen, approximate=True
        )
        raise_if_cancelling()
        return entry_id

    async def read(
        self,
        stream: str,
        group: str,
        consumer: str,
        *,
        count: int = 100,
        block_ms: int | None = 1000,
    ) -> list[Entry]:
        """New entries for this consumer; they stay pending until `ack`."""
        redis: Any = self._redis
        reply = await redis.xreadgroup(
            group, consumer, {self.key(stream): ">"}, count=count, block=block_ms
        )
        raise_if_cancelling()
        return [
            Entry(stream, entry_id, fields)
            for _key, entries in reply or []
            for entry_id, fields in entries
        ]

    async def read_pending(
        self, stream: str, group: str, consumer: str, *, count: int = 100
    ) -> list[Entry]:
        """Entries already delivered to this consumer but not acknowledged (after a restart)."""
        redis: Any = self._redis
        reply = await redis.xreadgroup(group, consumer, {self.key(stream): "0"}, count=count)
        raise_if_cancelling()
        return [
            Entry(stream, entry_id, fields)
            for _key, entries in reply or []
            for entry_id, fields in entries
            if fields is not None
        ]

    async def ack(self, stream: str, group: str, *entry_ids: str) -> int:
        """Acknowledge entries once they have been acted upon."""
        if not entry_ids:
            return 0
        acked: int = await self._redis.xack(self.key(stream), group, *entry_ids)
        raise_if_cancelling()
        return acked

    async def reclaim(
        self,
        stream: str,
        group: str,
        consumer: str,
        *,
        min_idle_ms: int,
        count: int = 100,
    ) -> list[Entry]:
        """Take over entries other consumers left pending for at least `min_idle_ms`."""
        reply = await self._redis.xautoclaim(
            self.key(stream), group, consumer, min_idle_time=min_idle_ms, count=count
        )
        claimed = reply[1]
        return [Entry(stream, entry_id, fields) for entry_id, fields in claimed if fields]

    async def backlog_then_new(
        self,
        stream: str,
        group: str,
        consumer: str,
        *,
        reclaim_idle_ms: int,
        backlog: int = 100,
        count: int = 100,
        block_ms: int | None,
    ) -> tuple[list[Entry], int]:
        """One round of a consumer that acknowledges only after acting: its own pending
        entries, those a dead consumer left idle for `reclaim_idle_ms`, then new ones (waiting
        up to `block_ms` only when there was no backlog), each once. Returns the entries and
        how many of them were new."""
        entries = await self.read_pending(stream, group, consumer, count=backlog)
        entries += await self.reclaim(
            stream, group, consumer, min_idle_ms=reclaim_idle_ms, count=backlog
        )
        fresh = await self.read(
            stream, group, consumer, count=count, block_ms=None if entries else block_ms
        )
        unique = {entry.id: entry for entry in [*entries, *fresh]}  # own idle ones reclaimed
        return list(unique.values()), len(fresh)

    async def pending_count(self, stream: str, group: str) -> int:
        """How many entries of the group are delivered but not acknowledged."""
        summary = await self._redis.xpending(self.key(stream), group)
        return int(summary["pending"])

    async def lag(self, stream: str, group: str) -> int:
        """Entries not yet delivered to the group (Redis ≥ 7 reports it; else counted)."""
        for info in await self._redis.xinfo_groups(self.key(stream)):
            if info["name"] == group:
                lag = info.get("lag")
                if lag is not None:
                    return int(lag)
                last = info["last-delivered-id"]
                redis: Any = self._redis
                newer = await redis.xrange(self.key(stream), min=f"({last}", max="+")
                return len(newer)
        raise LookupError(f"no group {group!r} on stream {stream!r}")
