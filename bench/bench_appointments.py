"""Booking under contention on a hot slot, against a plain INSERT-per-request bound.

    python bench/bench_appointments.py [--quick] [--clients N] [--requests R]

One uvicorn process serves the appointments service and, on the same app, engine and auth,
a bound endpoint that does one plain INSERT per request. Concurrent clients over loopback
HTTP all book the earliest slot still open at an office with 3 windows (moving on to the next
slot when told "slot taken"), then hit the bound endpoint the same number of times. The table
shows requests and bookings per second, p50/p99 latency, and the ratio to the bound.

PostgreSQL: OKNO_BENCH_DATABASE_URL (a throw-away database is created on it) or an embedded
server; Redis: OKNO_BENCH_REDIS_URL or an embedded one. Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi import APIRouter  # noqa: E402
from sqlalchemy import text  # noqa: E402

from bench.support import bench_servers, wait_up  # noqa: E402
from services.auth.deps import CurrentUser  # noqa: E402
from services.common.deps import SessionDep  # noqa: E402

WINDOWS = 3
_TIME_LIMIT = 40.0  # seconds per round and phase
_ROUNDS = 4

#: One load phase: (latencies in seconds, rows made, server errors, elapsed seconds).
Phase = tuple[list[float], int, int, float]


def _serve(port: int) -> None:
    """Child process: the appointments app plus the bound endpoint."""
    import uvicorn

    from services.apps import build_app
    from services.common.settings import Settings

    bound = APIRouter()

    @bound.post("/bench/plain", status_code=201)
    async def plain(_user: CurrentUser, session: SessionDep) -> dict[str, int]:
        row = await session.execute(
            text("INSERT INTO bench_plain (note) VALUES ('x') RETURNING id")
        )
        return {"id": int(row.scalar_one())}

    settings = Settings()
    app = build_app(
        "appointments",
        settings,
        database_url=settings.database_url or "",
        redis_url=settings.redis_url or "",
    )
    app.include_router(bound)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


async def _prepare(database_url: str, secret: str) -> tuple[str, str]:
    """Migrate, import the sample directory, open an office all day; returns (office, token)."""
    from services.appointments import schedule
    from services.appointments.schemas import ScheduleIn
    from services.auth import service as accounts
    from services.auth.models import Role
    from services.auth.tokens import issue_token
    from services.common.db import create_engine, session_factory, transaction
    from services.common.migrate import upgrade
    from services.demo_seed import DEMO_DIR
    from services.directory import service as directory
    from services.directory.importer import parse_json
    from services.directory.schemas import AgencyIn, Interval

    engine = create_engine(database_url, pool_size=1)
    try:
        await upgrade(engine)
        office = f"bench-{secrets.token_hex(3)}"
        async with transaction(session_factory(engine)) as session:
            await session.execute(
                text("CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, note text)")
            )
            data = parse_json((DEMO_DIR / "agencies.json").read_bytes())
            await directory.import_directory(session, data, actor="bench", actor_id=None)
            all_day = [Interval(open=dt.time(0), close=dt.time(23, 45))]
            await directory.save_agency(
                session,
                AgencyIn(
                    code=office,
                    name="Офис для замера",
                    kind="mfc",
                    municipality="Кемерово",
                    address="Кемерово",
                    hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), all_day),
                    services=["snils"],
                ),
            )
            await schedule.save_schedule(
                session,
                office_code=office,
                data=ScheduleIn(windows=WINDOWS, durations={"snils": 15}),
                now=dt.datetime.now(dt.UTC),
            )
            user = await accounts.create_user(
                session,
                username=f"bench-{secrets.token_hex(3)}",
                full_name="Замер",
                role=Role.OPERATOR,
                password=secrets.token_urlsafe(12),
                agency_code=None,
                actor="bench",
                actor_id=None,
            )
            token, _ = issue_token(
                secret=secret,
                user_id=user.id,
                username=user.username,
                role=user.role,
                agency_id=None,
                ttl_seconds=3600,
            )
        return office, token
    finally:
        await engine.dispose()


async def _load_booking(base: str, token: str, office: str, clients: int, requests: int) -> Phase:
    """(latencies, bookings made, server errors, elapsed); all clients chase the hot slot."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as client:
        reply = await client.get(
            f"{base}/appointments/slots", params={"office": office, "service": "snils", "days": 30}
        )
        slots = [s["starts_at"] for s in reply.json()]
        state = {"slot": 0, "left": requests, "made": 0, "errors": 0}
        latencies: list[float] = []
        deadline = time.monotonic() + _TIME_LIMIT

        async def worker() -> None:
            while state["left"] > 0 and time.monotonic() < deadline:
                state["left"] -= 1
                index = state["slot"]
                body = {"office": office, "service": "snils", "starts_at": slots[index]}
                started = time.perf_counter()
                answer = await client.post(f"{base}/appointments/bookings", json=body)
                latencies.append(time.perf_counter() - started)
                if answer.status_code == 201:
                    state["made"] += 1
                elif answer.status_code == 409 and state["slot"] == index:
                    state["slot"] = index + 1
                elif answer.status_code >= 500:
                    state["errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, state["made"], state["errors"], time.perf_counter() - started


async def _load_plain(base: str, token: str, clients: int, requests: int) -> Phase:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as client:
        state = {"left": requests, "made": 0, "errors": 0}
        latencies: list[float] = []
        deadline = time.monotonic() + _TIME_LIMIT

        async def worker() -> None:
            while state["left"] > 0 and time.monotonic() < deadline:
                state["left"] -= 1
                started = time.perf_counter()
                answer = await client.post(f"{base}/bench/plain")
                latencies.append(time.perf_counter() - started)
                state["made" if answer.status_code == 201 else "errors"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, state["made"], state["errors"], time.perf_counter() - started


def _add(total: Phase, more: Phase) -> Phase:
    return total[0] + more[0], total[1] + more[1], total[2] + more[2], total[3] + more[3]


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else 0.0


async def _measure(base: str, token: str, office: str, clients: int, requests: int) -> None:
    await _load_plain(base, token, clients, min(200, requests))  # warm up pools and caches
    # Alternate short rounds, so drifting background load on a shared machine hits both alike.
    booking: Phase = ([], 0, 0, 0.0)
    plain: Phase = ([], 0, 0, 0.0)
    for _round in range(_ROUNDS):
        share = max(1, requests // _ROUNDS)
        booking = _add(booking, await _load_booking(base, token, office, clients, share))
        plain = _add(plain, await _load_plain(base, token, clients, share))
    rows = []
    for name, (lat, made, errors, elapsed) in (
        ("hot-slot booking", booking),
        ("plain INSERT bound", plain),
    ):
        rows.append(
            (
                name,
                len(lat),
                made,
                errors,
                len(lat) / elapsed,
                made / elapsed,
                _p(lat, 50),
                _p(lat, 99),
            )
        )
    header = (
        f"{'endpoint':<20} {'requests':>8} {'rows':>6} {'5xx':>4} {'req/s':>8} {'rows/s':>8}"
        f" {'p50 ms':>8} {'p99 ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, count, made, errors, rps, made_ps, p50, p99 in rows:
        print(
            f"{name:<20} {count:>8} {made:>6} {errors:>4} {rps:>8.0f} {made_ps:>8.0f}"
            f" {p50:>8.1f} {p99:>8.1f}"
        )
    print()
    print(f"booking/plain request throughput: {rows[0][4] / rows[1][4]:.2f}x")
    print(f"booking/plain p99 latency:        {rows[0][7] / rows[1][7]:.2f}x")
    print(
        f"bookings made: {rows[0][2]} on {WINDOWS} windows "
        f"(≤ {WINDOWS} per slot by the seats' primary key); server errors: {rows[0][3]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (about 10 s)")
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return
    clients = args.clients or (20 if args.quick else 50)
    requests = min(args.requests or (600 if args.quick else 3000), 20_000)
    from tests.support.servers import free_port

    with (
        tempfile.TemporaryDirectory(prefix="okno-bench-") as folder,
        bench_servers(Path(folder)) as (db_url, redis_url),
    ):
        secret = secrets.token_urlsafe(40)
        office, token = asyncio.run(_prepare(db_url, secret))
        port = free_port()
        env = {
            **os.environ,
            "OKNO_DATABASE_URL": db_url,
            "OKNO_REDIS_URL": redis_url,
            "OKNO_JWT_SECRET": secret,
            "OKNO_DATA_DIR": folder,
            "OKNO_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port)], env=env, stdin=subprocess.DEVNULL
        )
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(wait_up(f"{base}/health", server))
            print(
                f"{clients} concurrent clients, {requests} requests each phase, {WINDOWS} windows\n"
            )
            asyncio.run(_measure(base, token, office, clients, requests))
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
