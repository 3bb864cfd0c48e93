"""FAQ search through the HTTP API against the same search run directly in PostgreSQL.

    python bench/bench_knowledge_search.py [--quick] [--entries N] [--requests R]

The database gets the sample knowledge content plus synthetic published FAQ entries (10,000
in all by default) built from the sample questions and answers. One uvicorn process, pinned
to one CPU core, serves the knowledge service; concurrent clients over loopback send the
public search `GET /knowledge/public/faq/search?q=…&limit=10` with the fixed set of real-looking
queries of the search-quality tests. The bound runs the very same two SQL statements per
search (term expansion, then ranking with snippets) straight over asyncpg, with the same
concurrency. The table shows p50/p95 latency, requests per second and the HTTP/SQL ratio.

PostgreSQL: OKNO_BENCH_DATABASE_URL (a throw-away database is created on it) or an embedded
server; Redis: OKNO_BENCH_REDIS_URL or an embedded one. Loopback only, bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.support import bench_servers, wait_up  # noqa: E402
from tests.knowledge.search_cases import CASES  # noqa: E402

QUERIES = [query for query, _ in CASES]
LIMIT = 10
CONCURRENCY = 8
_PHASE_LIMIT = 50.0  # seconds per measured phase
_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


def _serve(port: int, core: int) -> None:
    """Child process: the knowledge service on one CPU core."""
    os.sched_setaffinity(0, {core})
    import uvicorn

    from services.apps import build_app
    from services.common.settings import Settings

    settings = Settings()
    app = build_app(
        "knowledge",
        settings,
        database_url=settings.database_url or "",
        redis_url=settings.redis_url or "",
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


def _synthetic_rows(total: int, existing: int, seed: int) -> list[dict[str, Any]]:
    """Published entries varied from the sample ones, so the index holds realistic text."""
    from services.knowledge.demo_seed import demo_bundle

    rng = random.Random(seed)
    sample = demo_bundle().faq
    places = ["Кемерово", "Новокузнецк", "Прокопьевск", "Белово", "Юрга", "Междуреченск"]
    rows = []
    for number in range(max(0, total - existing)):
        base, other = rng.choice(sample), rng.choice(sample)
        place = rng.choice(places)
        rows.append(
            {
                "topic": base.topic,
                "question": f"{base.question.rstrip('?')} ({place}, вопрос {number})?",
                "answer": f"{base.answer} {other.answer}",
                "spoken": base.spoken,
                "status": "published",
                "version": 1,
                "sample_data": True,
                "updated_by": "bench",
            }
        )
    return rows


async def _prepare(database_url: str, entries: int) -> int:
    """Migrate, seed the samples, add synthetic entries; returns the published FAQ count."""
    from sqlalchemy import func, insert, select

    from services.common.db import create_engine, session_factory, transaction
    from services.common.migrate import upgrade
    from services.demo_seed import seed_directory
    from services.knowledge.demo_seed import seed_knowledge
    from services.knowledge.models import FaqEntry

    engine = create_engine(database_url, pool_size=1)
    try:
        await upgrade(engine)
        async with transaction(session_factory(engine)) as session:
            await seed_directory(session)
            await seed_knowledge(session)
            existing = await session.scalar(select(func.count()).select_from(FaqEntry)) or 0
            rows = _synthetic_rows(entries, existing, seed=6)
            for start in range(0, len(rows), 1000):
                await session.execute(insert(FaqEntry), rows[start : start + 1000])
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE knowledge_faq"))
            count = await conn.scalar(
                text("SELECT count(*) FROM knowledge_faq WHERE status = 'published'")
            )
        return int(count or 0)
    finally:
        await engine.dispose()


def _positional(sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`:name` parameters as asyncpg's `$n`."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    return _NAMED.sub(number, sql), [params[name] for name in order]


async def _direct_searcher(database_url: str) -> tuple[Callable[[str], Awaitable[int]], Any]:
    """The service's two statements per search, straight over an asyncpg pool."""
    import asyncpg

    from services.knowledge.search import _TERMS_SQL, Filters, ranked_params, ranked_sql

    url = make_url(database_url).set(drivername="postgresql")
    pool = await asyncpg.create_pool(
        url.render_as_string(hide_password=False), min_size=CONCURRENCY, max_size=CONCURRENCY
    )
    terms_sql, _ = _positional(_TERMS_SQL.text, {"words": None})
    filters = Filters()

    async def search(query: str) -> int:
        from services.knowledge.text_search import query_words

        async with pool.acquire() as conn:
            rows = await conn.fetch(terms_sql, query_words(query))
            terms = [row["query"] for row in rows]
            sql, args = _positional(
                ranked_sql(len(terms), filters),
                ranked_params(terms, filters, limit=LIMIT, offset=0),
            )
            return len(await conn.fetch(sql, *args))

    return search, pool


async def _measure(
    call: Callable[[str], Awaitable[int]], requests: int
) -> tuple[list[float], float, int]:
    """(latencies in ms, elapsed seconds, results returned) for `requests` calls."""
    latencies: list[float] = []
    found = 0
    queue = iter(range(requests))
    deadline = time.monotonic() + _PHASE_LIMIT

    async def worker() -> None:
        nonlocal found
        for index in queue:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            hits = await call(QUERIES[index % len(QUERIES)])
            found += hits
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return latencies, time.perf_counter() - started, found


async def _run_phases(base: str, database_url: str, requests: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:

        async def over_http(query: str) -> int:
            reply = await client.get(
                f"{base}/knowledge/public/faq/search", params={"q": query, "limit": LIMIT}
            )
            reply.raise_for_status()
            return len(reply.json()["items"])

        await _measure(over_http, len(QUERIES))  # warm-up: connections, plans, caches
        http_result = await _measure(over_http, requests)
    direct, pool = await _direct_searcher(database_url)
    try:
        await _measure(direct, len(QUERIES))
        sql_result = await _measure(direct, requests)
    finally:
        await pool.close()
    return {"HTTP API (1 core)": http_result, "PostgreSQL directly": sql_result}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (CI smoke run)")
    parser.add_argument("--entries", type=int, default=10_000, help="published FAQ entries")
    parser.add_argument("--requests", type=int, help="requests per phase")
    args = parser.parse_args()
    requests = args.requests or (300 if args.quick else 2000)
    entries = max(200, min(args.entries, 200_000))
    core = max(os.sched_getaffinity(0))

    with tempfile.TemporaryDirectory(prefix="okno-bench-") as folder:
        with bench_servers(Path(folder)) as (database_url, redis_url):
            published = asyncio.run(_prepare(database_url, entries))
            port = _free_port()
            env = {
                **os.environ,
                "OKNO_DATABASE_URL": database_url,
                "OKNO_REDIS_URL": redis_url,
                "OKNO_DATA_DIR": folder,
                "OKNO_LOG_LEVEL": "WARNING",
            }
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    f"import bench_knowledge_search as b; b._serve({port}, {core})",
                ],
                cwd=Path(__file__).resolve().parent,
                env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
                stdin=subprocess.DEVNULL,
            )
            try:
                base = f"http://127.0.0.1:{port}"
                asyncio.run(wait_up(f"{base}/health", process))
                results = asyncio.run(_run_phases(base, database_url, requests))
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    _report(results, published, requests)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _report(results: dict[str, Any], published: int, requests: int) -> None:
    print(
        f"FAQ search: {published} published entries, {len(QUERIES)} distinct queries, "
        f"limit {LIMIT}, {CONCURRENCY} concurrent clients, {requests} requests per phase"
    )
    header = f"{'path':<22} {'done':>6} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'hits/req':>9}"
    print(header)
    print("-" * len(header))
    figures = {}
    for name, (latencies, elapsed, found) in results.items():
        rate = len(latencies) / elapsed
        figures[name] = (statistics.median(latencies), _percentile(latencies, 0.95), rate)
        print(
            f"{name:<22} {len(latencies):>6} {figures[name][0]:>8.1f} {figures[name][1]:>8.1f} "
            f"{rate:>8.1f} {found / max(1, len(latencies)):>9.1f}"
        )
    http, sql = figures["HTTP API (1 core)"], figures["PostgreSQL directly"]
    print(
        f"\nHTTP / direct SQL: throughput {http[2] / sql[2]:.2f}x, "
        f"p50 latency {http[0] / sql[0]:.2f}x, p95 latency {http[1] / sql[1]:.2f}x"
    )


if __name__ == "__main__":
    main()
