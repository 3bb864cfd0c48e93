"""What every benchmark needs: servers to run against, and a way to wait for a service.

Benchmarks use the servers named by OKNO_BENCH_DATABASE_URL / OKNO_BENCH_REDIS_URL (on the
configured PostgreSQL a throw-away database is created and dropped), else embedded ones.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from services.common.embedded import embedded_postgres, embedded_redis
from tests.support.databases import create_database, drop_database


@contextmanager
def bench_servers(folder: Path) -> Iterator[tuple[str, str]]:
    """(database URL, Redis URL) for one benchmark run."""
    with ExitStack() as stack:
        configured = os.environ.get("OKNO_BENCH_DATABASE_URL")
        name = f"okno_bench_{secrets.token_hex(4)}"
        if configured:
            asyncio.run(create_database(configured, name))
            stack.callback(lambda: asyncio.run(drop_database(configured, name)))
            db_url = make_url(configured).set(database=name).render_as_string(hide_password=False)
        else:
            db_url = stack.enter_context(embedded_postgres(folder, database="okno")).url
        redis_url = (
            os.environ.get("OKNO_BENCH_REDIS_URL")
            or stack.enter_context(embedded_redis(folder)).url
        )
        yield db_url, redis_url


async def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Wait until `url` answers 200, or stop the benchmark if the server process died."""
    async with httpx.AsyncClient(timeout=1) as client:
        for _ in range(300):
            if process.poll() is not None:
                raise SystemExit(f"a server exited with code {process.returncode}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} did not answer in 30 s")
