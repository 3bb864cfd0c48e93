"""Bridge throughput and command round trip, against bare relays measured in the same run.

    python bench/bench_bridge.py [--quick]

1. Ingest: ARI events from a WebSocket on loopback into a Redis stream. The bridge path reads
   the socket, translates every message (the translator tracks callers, legs and endings) and
   publishes the typed domain events; the bound is a bare relay that appends each raw message
   to a stream. Each synthetic call is StasisStart, three DTMF, a hang-up request, StasisEnd.
2. Round trip: a caller enters Stasis on the fake PBX → bridge (answer, queue, publish) →
   router (decides) → bridge (originates to the operator). Measured per call from the caller
   channel's creation to the operator leg's creation, on the fake's clock. The bound is a bare
   Redis relay round trip: append to stream A, a relay reads it and appends to stream B, a
   reader gets it.

Uses OKNO_BENCH_REDIS_URL / OKNO_BENCH_DATABASE_URL when set (a throw-away database), else
embedded servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis.asyncio as aioredis  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from ari_bridge.events import to_fields  # noqa: E402
from ari_bridge.process import run_bridge  # noqa: E402
from ari_bridge.translate import Translator  # noqa: E402
from bench.support import bench_servers  # noqa: E402
from fakepbx.pbx import FakePbx, PbxOptions  # noqa: E402
from services.acd import events as r  # noqa: E402
from services.common.migrate import migrate  # noqa: E402
from services.common.settings import Settings  # noqa: E402
from services.common.streams import Streams  # noqa: E402
from services.router.process import run_router  # noqa: E402
from services.router.wire import EVENTS, event_fields  # noqa: E402


def synthetic_calls(count: int) -> list[str]:
    """ARI messages of `count` short calls, shaped like the recorded traces."""
    messages = []
    for n in range(count):
        channel = {
            "id": f"1796000000.{n}",
            "name": f"Local/88005550100@from-pstn-{n:08x};2",
            "state": "Up",
            "caller": {"name": "", "number": f"+7913{n:07d}"},
            "dialplan": {"context": "from-pstn", "exten": "88005550100", "priority": 3,
                         "app_name": "Stasis", "app_data": "okno,inbound,88005550100"},
        }  # fmt: skip
        stamp = "2026-11-30T11:24:41.615+0000"
        base = {"timestamp": stamp, "channel": channel, "application": "okno"}
        messages.append(json.dumps({"type": "StasisStart", "args": ["inbound", "88005550100"],
                                    **base}))  # fmt: skip
        for digit in "12#":
            messages.append(
                json.dumps(
                    {"type": "ChannelDtmfReceived", "digit": digit, "duration_ms": 100, **base}
                )  # fmt: skip
            )
        messages.append(json.dumps({"type": "ChannelHangupRequest", "cause": 16, **base}))
        messages.append(json.dumps({"type": "StasisEnd", **base}))
    return messages


async def ingest(redis_url: str, messages: list[str], *, translate: bool) -> float:
    """Messages per second through one path."""

    async def send_all(socket: ServerConnection) -> None:
        for message in messages:
            await socket.send(message)
        await socket.close()

    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    streams = Streams(client, f"okno-bench:{secrets.token_hex(3)}")
    translator = Translator(app="okno")
    async with serve(send_all, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        started = time.perf_counter()
        async with connect(f"ws://127.0.0.1:{port}") as socket:
            async for raw in socket:
                if translate:
                    for event in translator.feed_ari(json.loads(raw)):
                        await streams.add("bridge", to_fields(event))
                else:
                    await streams.add("relay", {"raw": str(raw)})
        elapsed = time.perf_counter() - started
    keys = [key async for key in client.scan_iter(match=f"{streams.key('')}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
    return len(messages) / elapsed


async def relay_round_trips(redis_url: str, count: int) -> list[float]:
    """Bound: latency of one hop through a relay over Redis streams, in seconds."""
    client = aioredis.Redis.from_url(redis_url, decode_responses=True)
    streams = Streams(client, f"okno-bench:{secrets.token_hex(3)}")
    await streams.ensure_group("a", "relay")
    await streams.ensure_group("b", "reader")

    async def relay() -> None:
        while True:
            for entry in await streams.read("a", "relay", "r", block_ms=1000):
                await streams.add("b", entry.fields)
                await streams.ack("a", "relay", entry.id)

    latencies = []
    task = asyncio.create_task(relay())
    try:
        for _ in range(count):
            sent = time.perf_counter()
            await streams.add("a", {"sent": repr(sent)})
            entries: list[Any] = []
            while not entries:
                entries = await streams.read("b", "reader", "x", block_ms=1000)
            latencies.append(time.perf_counter() - sent)
            await streams.ack("b", "reader", *(e.id for e in entries))
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        keys = [key async for key in client.scan_iter(match=f"{streams.key('')}*")]
        await client.delete(*keys)
        await client.aclose()
    return latencies


async def centre_round_trips(database_url: str, redis_url: str, count: int) -> list[float]:
    """Caller in Stasis → operator leg originated, through the real bridge and router."""
    seats = tuple(f"op{n}" for n in range(2001, 2001 + count))
    # A fast clock: the fake's own dialplan delays (Answer, NoOp) shrink to a few ms; ring
    # timeouts still last 0.3 s, long enough to see every operator leg.
    options = PbxOptions(operators=seats, default_sound_seconds=1.0, speed=50.0)
    async with FakePbx.start(options=options) as pbx:
        for seat in seats:
            pbx.register(seat)
            # One call per seat: answered at once, kept long enough (0.4 s) to be seen.
            pbx.set_operator(seat, answers_after=0.01, hangs_up_after=20.0)
        # Callers go straight to the queue: the voice menu would add its own prompts and pauses.
        bridge_config = Path(tempfile.mkdtemp(prefix="okno-bench-")) / "bridge.yaml"
        bridge_config.write_text("menus: false\n", encoding="utf-8")
        settings = Settings(
            bridge_config=bridge_config,
            database_url=database_url,
            redis_url=redis_url,
            centre_id=f"bench-{secrets.token_hex(3)}",
            ari_url=f"{pbx.ari_url}/ari",
            ami_port=pbx.ami_port,
            log_level="WARNING",
        )
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        streams = Streams(client, settings.stream_prefix())
        for seat in seats:
            agent = seat.removeprefix("op")
            await streams.add(
                EVENTS, event_fields(r.AgentLoggedIn(agent, {"general": 3}, {"ru": 5}))
            )
            await streams.add(EVENTS, event_fields(r.AgentReady(agent)))
        async with running(run_router(settings, database_url=database_url, redis_url=redis_url)):
            async with running(run_bridge(settings, redis_url)):
                await asyncio.sleep(1.0)  # links up, agents logged in
                latencies = []
                for n in range(count):
                    call = pbx.control.inject_call(did="88005550100", caller=f"+7913{n:07d}")
                    caller = pbx.engine.channel(call.channel_id)
                    async with asyncio.timeout(10):
                        leg = await operator_leg(pbx, call.channel_id)
                    latencies.append(leg.created - caller.created)
        await client.aclose()
    return latencies


async def operator_leg(pbx: FakePbx, call_id: str) -> Any:
    """The operator leg the bridge originates for a call (its id starts with the call id)."""
    while True:
        for channel in pbx.engine.channels.values():
            if channel.id.startswith(f"{call_id}-op"):
                return channel
        await asyncio.sleep(0.001)


@asynccontextmanager
async def running(coro: Any) -> AsyncIterator[None]:
    task = asyncio.ensure_future(coro)
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(quick: bool, database_url: str, redis_url: str) -> None:
    calls = 2000 if quick else 10_000
    trips = 50 if quick else 200
    await migrate(database_url)
    messages = synthetic_calls(calls)
    bare = await ingest(redis_url, messages, translate=False)
    bridge = await ingest(redis_url, messages, translate=True)
    bound = await relay_round_trips(redis_url, trips)
    centre = await centre_round_trips(database_url, redis_url, trips)
    print(f"ARI WebSocket → Redis stream, {len(messages):,} messages ({calls:,} calls)")
    print(f"  bare relay            {bare:10,.0f} msg/s")
    print(f"  bridge (translated)   {bridge:10,.0f} msg/s   ratio {bridge / bare:.2f} of bound")
    print(f"Round trip, {trips} calls (ms)        p50      p99")
    print(f"  bare Redis relay hop   {statistics.median(bound) * 1e3:8.2f} "
          f"{percentile(bound, 0.99) * 1e3:8.2f}")  # fmt: skip
    ratio = statistics.median(centre) / statistics.median(bound)
    print(f"  caller → operator leg  {statistics.median(centre) * 1e3:8.2f} "
          f"{percentile(centre, 0.99) * 1e3:8.2f}   p50 {ratio:.1f}× the bound")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    quick = parser.parse_args().quick
    with (
        tempfile.TemporaryDirectory(prefix="okno-bench-") as folder,
        bench_servers(Path(folder)) as (database_url, redis_url),
    ):
        asyncio.run(main(quick, database_url, redis_url))
