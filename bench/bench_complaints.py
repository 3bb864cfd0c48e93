"""Complaints registered and delivered end to end, and the outbox drain rate, against the raw
signed webhook POST rate to the same local receiver.

    python bench/bench_complaints.py [--quick] [--complaints N] [--clients C]

Three processes on loopback: the complaints service (uvicorn), an agency's webhook receiver
(uvicorn; checks every signature, keeps each idempotency key once) and this script, which runs
the delivery worker's rounds in-process. Phases, each bounded in count and time:

1. raw POST: the script sends N signed webhook POSTs straight to the receiver (the bound);
2. end to end: C clients register N complaints over HTTP while the worker delivers them; the
   clock stops when the last one is marked delivered;
3. backlog drain: N complaints are registered with the worker stopped (timed too: the
   registration rate alone), then the worker drains the outbox.

PostgreSQL: OKNO_BENCH_DATABASE_URL (a throw-away database is created on it) or an embedded
server; Redis: OKNO_BENCH_REDIS_URL or an embedded one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bench.support import bench_servers, wait_up  # noqa: E402

_TIME_LIMIT = 40.0  # seconds per phase
_SECRET_ENV = "OKNO_BENCH_WEBHOOK_SECRET"


def _receive(port: int) -> None:
    """Child process: an agency's webhook receiver that verifies and dedups."""
    import uvicorn

    from services.complaints.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

    secret = os.environ[_SECRET_ENV]
    seen: set[str] = set()
    counts = {"requests": 0, "bad_signatures": 0, "duplicates": 0}
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.body()
        counts["requests"] += 1
        if not verify(
            secret,
            timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
            body=body,
            received=request.headers.get(SIGNATURE_HEADER, ""),
            now=int(time.time()),
        ):
            counts["bad_signatures"] += 1
            return Response(status_code=401)
        key = request.headers["idempotency-key"]
        if key in seen:
            counts["duplicates"] += 1
        seen.add(key)
        return Response(status_code=200)

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        return counts | {"unique": len(seen)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _serve(port: int) -> None:
    """Child process: the complaints service."""
    import uvicorn

    from services.apps import build_app
    from services.common.settings import Settings

    settings = Settings()
    app = build_app(
        "complaints",
        settings,
        database_url=settings.database_url or "",
        redis_url=settings.redis_url or "",
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


async def _prepare(database_url: str, jwt_secret: str, hook_url: str, hook_secret: str) -> str:
    """Migrate, import the sample directory, point an office at the receiver; returns a token."""
    from services.auth import service as accounts
    from services.auth.models import Role
    from services.auth.tokens import issue_token
    from services.common.db import create_engine, session_factory, transaction
    from services.common.migrate import upgrade
    from services.complaints.models import DeliveryPreference
    from services.demo_seed import DEMO_DIR
    from services.directory import service as directory
    from services.directory.importer import parse_json
    from services.directory.models import Agency

    engine = create_engine(database_url, pool_size=1)
    try:
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            data = parse_json((DEMO_DIR / "agencies.json").read_bytes())
            await directory.import_directory(session, data, actor="bench", actor_id=None)
            agency = await session.scalar(select(Agency).where(Agency.code == "mfc-kem-sovetsky"))
            assert agency is not None
            session.add(
                DeliveryPreference(
                    agency_id=agency.id,
                    channel="webhook",
                    webhook_url=hook_url,
                    webhook_secret=hook_secret,
                )
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
                secret=jwt_secret,
                user_id=user.id,
                username=user.username,
                role=user.role,
                agency_id=None,
                ttl_seconds=3600,
            )
        return token
    finally:
        await engine.dispose()


async def _raw_posts(hook_url: str, hook_secret: str, count: int, clients: int) -> float:
    """Seconds to send `count` signed POSTs with `clients` at once: the bound."""
    from services.complaints.signing import signed_headers

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        left = [count]
        deadline = time.monotonic() + _TIME_LIMIT

        async def sender() -> None:
            while left[0] > 0 and time.monotonic() < deadline:
                left[0] -= 1
                body = json.dumps({"type": "bench", "n": left[0]}).encode()
                headers = signed_headers(hook_secret, int(time.time()), body, secrets.token_hex(16))
                (await client.post(hook_url, content=body, headers=headers)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(clients)))
        return time.perf_counter() - started


async def _register(base: str, token: str, count: int, clients: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=headers) as client:
        left = [count]
        deadline = time.monotonic() + _TIME_LIMIT

        async def clerk() -> None:
            while left[0] > 0 and time.monotonic() < deadline:
                left[0] -= 1
                body = {
                    "phone": "+7923" + f"{secrets.randbelow(10**7):07d}",
                    "text": "Замер: жалоба на сроки выдачи документов.",
                    "agency_code": "mfc-kem-sovetsky",
                }
                reply = await client.post(f"{base}/complaints", json=body)
                reply.raise_for_status()

        await asyncio.gather(*(clerk() for _ in range(clients)))


class _Worker:
    """The delivery worker's rounds, run in this process until told to stop."""

    def __init__(self, database_url: str, folder: Path) -> None:
        from services.appointments.notify import NotifySettings
        from services.common.db import create_engine, session_factory
        from services.complaints.channels import HttpWebhookSender, SmtpSender
        from services.complaints.config import ComplaintSettings
        from services.complaints.worker import Delivery

        config = ComplaintSettings(delivery_batch=50, delivery_lease_seconds=60)
        self.engine = create_engine(database_url, pool_size=2)
        self.client = httpx.AsyncClient(
            timeout=10, limits=httpx.Limits(max_connections=60, max_keepalive_connections=60)
        )
        self.delivery = Delivery(
            sessions=session_factory(self.engine),
            config=config,
            recordings=folder,
            webhook=HttpWebhookSender(self.client),
            mail=SmtpSender(NotifySettings()),
        )

    async def delivered(self) -> int:
        from services.complaints.models import OutboxMessage

        async with self.delivery.sessions() as session:
            found = await session.scalar(
                select(func.count()).where(OutboxMessage.state == "delivered")
            )
        return int(found or 0)

    async def run_until(self, target: int, stop_registering: asyncio.Event) -> None:
        """Rounds until `target` rows are delivered (or the phase's time is up)."""
        from services.complaints.worker import deliver_round

        deadline = time.monotonic() + _TIME_LIMIT
        while time.monotonic() < deadline:
            result = await deliver_round(self.delivery)
            if result.claimed == 0:
                if stop_registering.is_set() and await self.delivered() >= target:
                    return
                await asyncio.sleep(0.01)

    async def close(self) -> None:
        await self.client.aclose()
        await self.engine.dispose()


async def _measure(
    base: str,
    token: str,
    hook_url: str,
    hook_secret: str,
    db_url: str,
    folder: Path,
    *,
    count: int,
    clients: int,
) -> None:
    await _raw_posts(hook_url, hook_secret, min(100, count), clients)  # warm up
    raw = await _raw_posts(hook_url, hook_secret, count, clients)
    worker = _Worker(db_url, folder)
    try:
        await _register(base, token, min(50, count), clients)  # warm up
        done = asyncio.Event()
        await worker.run_until(min(50, count), _set(done))
        before = await worker.delivered()

        registered = asyncio.Event()
        started = time.perf_counter()
        delivering = asyncio.create_task(worker.run_until(before + count, registered))
        await _register(base, token, count, clients)
        registered.set()
        await delivering
        end_to_end = time.perf_counter() - started
        through = await worker.delivered() - before

        started = time.perf_counter()
        await _register(base, token, count, clients)
        register_only = time.perf_counter() - started
        backlog_from = await worker.delivered()
        started = time.perf_counter()
        await worker.run_until(backlog_from + count, _set(asyncio.Event()))
        drain = time.perf_counter() - started
        drained = await worker.delivered() - backlog_from
    finally:
        await worker.close()
    async with httpx.AsyncClient() as client:
        stats = (await client.get(hook_url.replace("/hook", "/stats"))).json()

    rows = [
        ("raw signed POST (bound)", count, raw),
        ("register + deliver, end to end", through, end_to_end),
        ("register over HTTP, no worker", count, register_only),
        ("outbox backlog drain", drained, drain),
    ]
    header = f"{'phase':<32} {'messages':>8} {'seconds':>8} {'msg/s':>8} {'vs raw':>7}"
    print(header)
    print("-" * len(header))
    bound = count / raw
    for name, messages, seconds in rows:
        rate = messages / seconds
        print(f"{name:<32} {messages:>8} {seconds:>8.2f} {rate:>8.0f} {rate / bound:>6.2f}x")
    print()
    print(
        f"receiver: {stats['unique']} unique messages, {stats['duplicates']} repeats dropped, "
        f"{stats['bad_signatures']} bad signatures"
    )


def _set(event: asyncio.Event) -> asyncio.Event:
    event.set()
    return event


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run (about 15 s)")
    parser.add_argument("--complaints", type=int, default=None)
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--receive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.serve)
        return
    if args.receive:
        _receive(args.receive)
        return
    count = min(args.complaints or (200 if args.quick else 1000), 5000)
    clients = args.clients or 20
    from tests.support.servers import free_port

    with (
        tempfile.TemporaryDirectory(prefix="okno-bench-") as folder,
        bench_servers(Path(folder)) as (db_url, redis_url),
    ):
        jwt_secret, hook_secret = secrets.token_urlsafe(40), secrets.token_urlsafe(32)
        service_port, hook_port = free_port(), free_port()
        hook_url = f"http://127.0.0.1:{hook_port}/hook"
        token = asyncio.run(_prepare(db_url, jwt_secret, hook_url, hook_secret))
        env = {
            **os.environ,
            "OKNO_DATABASE_URL": db_url,
            "OKNO_REDIS_URL": redis_url,
            "OKNO_JWT_SECRET": jwt_secret,
            "OKNO_DATA_DIR": folder,
            "OKNO_LOG_LEVEL": "WARNING",
            _SECRET_ENV: hook_secret,
        }
        children = [
            subprocess.Popen(
                [sys.executable, __file__, flag, str(port)], env=env, stdin=subprocess.DEVNULL
            )
            for flag, port in (("--serve", service_port), ("--receive", hook_port))
        ]
        try:
            base = f"http://127.0.0.1:{service_port}"
            asyncio.run(wait_up(f"{base}/health", children[0]))
            asyncio.run(wait_up(hook_url.replace("/hook", "/stats"), children[1]))
            print(f"{count} complaints per phase, {clients} concurrent clients, batch 50\n")
            asyncio.run(
                _measure(
                    base,
                    token,
                    hook_url,
                    hook_secret,
                    db_url,
                    Path(folder),
                    count=count,
                    clients=clients,
                )
            )
        finally:
            for child in children:
                _stop(child)


if __name__ == "__main__":
    main()
