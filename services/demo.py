"""`okno demo`: the whole centre on one machine, stopped cleanly by Ctrl-C.

One supervisor process starts the embedded servers (or uses configured ones), migrates, seeds,
then runs each service as its own child process, as in production, and stops them all on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from ari_bridge.process import METRICS_PORT_OFFSET as BRIDGE_METRICS_OFFSET
from services.acd import events as r
from services.appointments.demo_seed import seed_appointments
from services.apps import SERVICES
from services.common.db import create_engine, session_factory, transaction
from services.common.errors import StartupError
from services.common.migrate import migrate
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.complaints.demo_seed import seed_complaints
from services.demo_seed import TOPICS, DemoLogin, demo_logins, seed_directory, seed_staff
from services.knowledge.demo_seed import seed_knowledge
from services.router.process import METRICS_PORT_OFFSET as ROUTER_METRICS_OFFSET
from services.router.wire import EVENTS, event_fields

#: Seats the demo's operator bots answer (fake PBX seats op1001-op1006); 1007-1008 are for people.
BOT_AGENTS = tuple(str(n) for n in range(1001, 1007))


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
            await seed_complaints(session)
        return logins
    finally:
        await engine.dispose()


def fake_pbx_ports(settings: Settings) -> tuple[int, int]:
    """The demo's fake Asterisk: ARI on base+88, AMI on base+38 (8188 and 8138 by default)."""
    return settings.base_port + 88, settings.base_port + 38


def start_services(
    settings: Settings, database_url: str, redis_url: str, names: Sequence[str]
) -> dict[str, subprocess.Popen[bytes]]:
    """Start every process of the centre as a child: each HTTP service (`okno serve NAME`), the
    workers, the fake Asterisk with simulated callers, the bridge and the ACD router."""
    ari_port, ami_port = fake_pbx_ports(settings)
    env = {
        **os.environ,
        "OKNO_DATABASE_URL": database_url,
        "OKNO_REDIS_URL": redis_url,
        "OKNO_DATA_DIR": str(settings.data_dir.resolve()),
        "OKNO_ARI_URL": f"http://127.0.0.1:{ari_port}/ari",
        "OKNO_AMI_HOST": "127.0.0.1",
        "OKNO_AMI_PORT": str(ami_port),
    }
    commands = {name: ["-m", "services.cli", "serve", name] for name in names}
    commands["appointments-worker"] = ["-m", "services.cli", "appointments-worker"]
    commands["complaints-worker"] = [
        "-m", "services.cli", "complaints-worker",
        "--metrics-port", str(settings.base_port + 20),
    ]  # fmt: skip
    commands["fakepbx"] = [
        "-m", "services.cli", "fakepbx", "--ari-port", str(ari_port), "--ami-port", str(ami_port),
    ]  # fmt: skip
    commands["acd"] = ["-m", "services.cli", "acd"]
    commands["bridge"] = ["-m", "services.cli", "bridge"]
    children = {}
    for name, args in commands.items():
        children[name] = subprocess.Popen(
            [sys.executable, *args], env=env, stdin=subprocess.DEVNULL
        )
        if name == "fakepbx":
            _wait_port(ari_port)
    return children


def start_traffic(settings: Settings) -> subprocess.Popen[bytes]:
    """Simulated citizens calling in, and operator bots answering on seats 1001-1006."""
    ari_port, _ = fake_pbx_ports(settings)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fakepbx.demo_traffic",
            "--url",
            f"http://127.0.0.1:{ari_port}",
            "--calls-per-minute",
            "4",
        ],  # fmt: skip
        stdin=subprocess.DEVNULL,
    )


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise StartupError(f"Nothing listens on port {port} after 30 s")


async def log_in_bots(settings: Settings, redis_url: str) -> None:
    """Operator bots log in to the router and get ready, as the workspace does for people."""
    client = create_redis(redis_url)
    streams = Streams(client, settings.stream_prefix())
    skills = dict.fromkeys(("general", *TOPICS), 3)
    try:
        for agent in BOT_AGENTS:
            await streams.add(EVENTS, event_fields(r.AgentLoggedIn(agent, skills, {"ru": 5})))
            await streams.add(EVENTS, event_fields(r.AgentReady(agent)))
    finally:
        await client.aclose()


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
    for name, process in children.items():
        if process.poll() is not None:
            raise StartupError(f"The {name} process exited with code {process.returncode}")


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
        lines.append(f"  {name:<12} {base}/docs   (health {base}/health, metrics {base}/metrics)")
    workspace = f"http://{settings.host}:{settings.service_port('workspace')}/"
    router_metrics = settings.base_port + ROUTER_METRICS_OFFSET
    bridge_metrics = settings.base_port + BRIDGE_METRICS_OFFSET
    lines += [
        "",
        f"  Operators and supervisors: {workspace} (operator1 and operator2 sit at seats 1007",
        "  and 1008 of the fake PBX; the supervisor's console links the live wallboard).",
        f"  Router and bridge metrics: http://{settings.host}:{router_metrics}/metrics,"
        f" http://{settings.host}:{bridge_metrics}/metrics",
    ]
    ari_port, ami_port = fake_pbx_ports(settings)
    lines += [
        "",
        f"  Telephony: fake Asterisk (ARI http://127.0.0.1:{ari_port}/ari, AMI port {ami_port}),",
        "  the bridge and the ACD router; simulated citizens call in about 4 times a minute and",
        f"  operator bots {', '.join(BOT_AGENTS)} answer. Call records: table `calls`.",
    ]
    lines += ["", "  Demo logins (POST /auth/login on the auth service):"]
    lines += [f"    {login.role:<14} {login.username:<14} {login.password}" for login in logins]
    lines += ["", f"  Logins are kept in {settings.data_dir.resolve() / 'demo-logins.json'}", ""]
    return "\n".join(lines)


def wait_for_stop(children: dict[str, subprocess.Popen[bytes]]) -> str | None:
    """Block until Ctrl-C (SIGINT) or SIGTERM, or until a process of the centre exits: then
    the reason, so that a centre without, say, its bridge does not look as if it were running."""
    stop = {"now": False}

    def handler(_signum: int, _frame: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop["now"]:
        for name, process in children.items():
            code = process.poll()
            if code is not None:
                return f"The {name} process exited with code {code}; its log is above"
        time.sleep(0.2)
    return None


def run_demo(settings: Settings, database_url: str, redis_url: str) -> None:
    """Prepare, start, wait for Ctrl-C, stop. Children are stopped even if start-up fails."""
    logins = asyncio.run(prepare(database_url, settings.data_dir))
    children = start_services(settings, database_url, redis_url, list(SERVICES))
    try:
        wait_healthy(settings, children)
        asyncio.run(log_in_bots(settings, redis_url))
        children["traffic"] = start_traffic(settings)
        print(banner(settings, logins), flush=True)
        failure = wait_for_stop(children)
        print("Stopping the demo centre…", flush=True)
    finally:
        stop_services(children)
    if failure is not None:
        raise StartupError(failure)
