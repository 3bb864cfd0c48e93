"""Embedded PostgreSQL and Redis start, serve the same SQL and commands, leave nothing behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.common.db import create_engine
from services.common.embedded import embedded_postgres, embedded_redis, process_alive
from services.common.redis_client import create_redis

pytestmark = pytest.mark.integration


async def _use(database_url: str, redis_url: str) -> tuple[str, str]:
    engine = create_engine(database_url, pool_size=1)
    client = create_redis(redis_url)
    try:
        async with engine.connect() as conn:
            stemmed = (
                await conn.exec_driver_sql("SELECT to_tsvector('russian', 'записаться паспорта')")
            ).scalar_one()
        await client.xadd("s", {"k": "v"})
        return str(stemmed), str(await client.xlen("s"))
    finally:
        await client.aclose()
        await engine.dispose()


def _postgres_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def test_embedded_servers_start_work_and_stop_without_orphans(tmp_path: Path) -> None:
    with embedded_postgres(tmp_path) as pg, embedded_redis(tmp_path) as redis:
        workers = _postgres_children(pg.pid)
        assert workers, "postgres should have background workers"
        stemmed, length = asyncio.run(_use(pg.url, redis.url))
        assert "'паспорт':2" in stemmed  # Russian stemming works: «паспорта» → паспорт
        assert length == "1"
    for pid in [pg.pid, redis.pid, *workers]:
        assert not process_alive(pid), f"process {pid} left behind"
    assert not (tmp_path / "redis" / "redis.sock").exists()


_KILLED_PARENT = """
import os, sys
from pathlib import Path
from services.common.embedded import embedded_redis
with embedded_redis(Path(sys.argv[1])) as server:
    print(server.pid, flush=True)
    os.kill(os.getpid(), 9)
"""


def test_embedded_redis_dies_with_a_killed_parent(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    run = subprocess.run(
        [sys.executable, "-c", _KILLED_PARENT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == -9  # killed: no cleanup code ran
    pid = int(run.stdout.split()[0])
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(pid), "the embedded Redis outlived its killed parent"
