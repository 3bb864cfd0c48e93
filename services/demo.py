"""`okno demo`: the whole centre on one machine, stopped cleanly by Ctrl-C.

One supervisor process starts the embedded servers (or uses configured ones), migrates, seeds,
then runs each service as its own child process, as in production, and stops them all on exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from services.appointments.demo_seed import seed_appointments
from services.apps import SERVICES
from services.common.db import create_engine, session_factory, transaction
from services.common.errors import StartupError
from services.common.migrate import migrate
from services.common.settings import Settings
from services.demo_seed import DemoLogin, demo_logins, seed_directory, seed_staff
from services.knowledge.demo_seed import seed_knowledge


async def prepare(database_url: str, data_dir: Path) -> list[DemoLogin]:
    """Migrate and seed the demo data; returns the demo logins."""
    await migrate(database_url)
    engine = create_engine(database_url, pool_size=1)
    try:
        logins = demo_logins(data_dir)
        async with transaction(session_factory(engine)) as session:
            await seed_directory(session)
            await seed_staff(session, logins)
            await seed_knowledge(session)
            await seed_appointments(session)
        return logins
    finally:
        await engine.dispose()


def start_services(
    settings: Settings, database_url: str, redis_url: str, names: Sequence[str]
) -> dict[str, subprocess.Popen[bytes]]:
    """Start each service as `okno serve NAME`, and the workers, in child processes."""
    env = {
        **os.environ,
        "OKNO_DATABASE_URL": database_url,
        "OKNO_REDIS_URL": redis_url,
        "OKNO_DATA_DIR": str(settings.data_dir.resolve()),
    }
    commands = {name: ["serve", name] for name in names}
    commands["appointments-worker"] = ["appointments-worker"]
    return {
        name: subprocess.Popen(
            [sys.executable, "-m", "services.cli", *args], env=env, stdin=subprocess.DEVNULL
        )
        for name, args in commands.items()
    }


def wait_healthy(settings: Settings, children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Wait until every service answers /health, or fail naming the one that did not."""
    deadline = time.monotonic() + 60
    pending = {name: process for name, process in children.items() if name in SERVICES}
    while pending:
        for name, process in list(pending.items()):
            if process.poll() is not None:
                raise StartupError(f"The {name} service exited with code {process.returncode}")
            url = f"http://{settings.host}:{settings.service_port(name)}/health"
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    del pending[name]
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            raise StartupError(f"Services not healthy after 60 s: {', '.join(pending)}")
        time.sleep(0.3)


def stop_services(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Terminate every child and wait for it, killing any that does not stop in 10 s."""
    for process in children.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in children.values():
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def banner(settings: Settings, logins: list[DemoLogin]) -> str:
    """What the person running the demo needs: where things are and how to log in."""
    lines = ["", "Okno demo centre is running. Press Ctrl-C to stop.", ""]
    for name in SERVICES:
        base = f"http://{settings.host}:{settings.service_port(name)}"
        lines.append(f"  {name:<10} {base}/docs   (health {base}/health, metrics {base}/metrics)")
    lines += ["", "  Demo logins (POST /auth/login on the auth service):"]
    lines += [f"    {login.role:<14} {login.username:<14} {login.password}" for login in logins]
    lines += ["", f"  Logins are kept in {settings.data_dir.resolve() / 'demo-logins.json'}", ""]
    return "\n".join(lines)


def wait_for_stop() -> None:
    """Block until Ctrl-C (SIGINT) or SIGTERM."""
    stop = {"now": False}

    def handler(_signum: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop["now"]:
        time.sleep(0.2)


def run_demo(settings: Settings, database_url: str, redis_url: str) -> None:
    """Prepare, start, wait for Ctrl-C, stop. Children are stopped even if start-up fails."""
    logins = asyncio.run(prepare(database_url, settings.data_dir))
    children = start_services(settings, database_url, redis_url, list(SERVICES))
    try:
        wait_healthy(settings, children)
        print(banner(settings, logins), flush=True)
        wait_for_stop()
        print("Stopping the demo centre…", flush=True)
    finally:
        stop_services(children)
