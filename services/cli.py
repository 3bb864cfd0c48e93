"""The `okno` command: run, migrate and administer a centre."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import uvicorn
from pydantic import ValidationError

from services.acd.cli import register as register_acd_commands
from services.apps import SERVICES, build_app
from services.common.embedded import service_urls
from services.common.errors import StartupError
from services.common.logging import configure_logging
from services.common.settings import Settings
from services.ivr.cli import register as register_ivr_commands

app = typer.Typer(
    help="Okno: contact-centre engine for a public-services information line.",
    no_args_is_help=True,
    add_completion=False,
)
user_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
directory_app = typer.Typer(help="The agency directory.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(directory_app, name="directory")
register_acd_commands(app)
register_ivr_commands(app)


def load_settings() -> Settings:
    """Settings from the environment, or a clear message naming the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"OKNO_{'_'.join(str(p) for p in e['loc']).upper() or 'SETTINGS'}: {e['msg']}"
            for e in exc.errors()
        )
        fail(f"Invalid configuration: {problems}")


def fail(message: str) -> NoReturn:
    """Print an error for a person (no traceback) and exit with status 2."""
    typer.secho(f"okno: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Alembic revision to migrate to")] = "heads",
) -> None:
    """Create or upgrade the database schema."""
    from services.common.migrate import migrate as run_migrate

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as (db, _):
            asyncio.run(run_migrate(db, revision))
    except StartupError as exc:
        fail(str(exc))
    typer.echo(f"Database migrated to {revision}.")


@app.command()
def serve(
    name: Annotated[str, typer.Argument(help=f"Service: {', '.join(SERVICES)}")],
    host: Annotated[str | None, typer.Option(help="Address to bind (default OKNO_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from OKNO_BASE_PORT)")] = None,
) -> None:
    """Run one HTTP service."""
    if name not in SERVICES:
        fail(f"Unknown service {name!r}; choose one of: {', '.join(SERVICES)}")
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as urls:
            service_app = build_app(name, settings, database_url=urls[0], redis_url=urls[1])
            config = uvicorn.Config(
                service_app,
                host=host or settings.host,
                port=port or settings.service_port(name),
                log_config=None,
                access_log=False,
                proxy_headers=False,
            )
            uvicorn.Server(config).run()
    except StartupError as exc:
        fail(str(exc))


@app.command()
def demo() -> None:
    """Run the whole demo centre with sample data; Ctrl-C stops everything."""
    from services.demo import run_demo

    settings = load_settings()
    configure_logging(level="WARNING", json=settings.log_json)
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as urls:
            run_demo(settings, *urls)
    except StartupError as exc:
        fail(str(exc))


def _run_until_signal(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived coroutine; SIGINT/SIGTERM cancel it cleanly."""

    async def guarded() -> None:
        task = asyncio.create_task(main)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(guarded())


def _run_until_stopped(work: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    """Run a worker that finishes its round and returns when its stop event is set;
    SIGINT/SIGTERM set it."""

    async def guarded() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await work(stop)

    asyncio.run(guarded())


@app.command()
def acd() -> None:
    """Run the ACD router of this centre (a standby waits for the lease) and its call records."""
    from services.router.process import run_router

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as urls:
            _run_until_signal(run_router(settings, database_url=urls[0], redis_url=urls[1]))
    except StartupError as exc:
        fail(str(exc))


@app.command()
def bridge() -> None:
    """Run the Asterisk bridge: ARI/AMI on one side, the router's streams on the other."""
    from ari_bridge.process import run_bridge

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as urls:
            _run_until_signal(run_bridge(settings, urls[1]))
    except StartupError as exc:
        fail(str(exc))


@app.command()
def fakepbx(
    host: Annotated[str, typer.Option(help="Address to bind")] = "127.0.0.1",
    ari_port: Annotated[int, typer.Option(help="ARI HTTP/WebSocket port (0: any free)")] = 8088,
    ami_port: Annotated[int, typer.Option(help="AMI TCP port (0: any free)")] = 5038,
    user: Annotated[str, typer.Option(help="ARI/AMI user")] = "okno",
    password: Annotated[str, typer.Option(help="ARI/AMI password")] = "okno",
    app_name: Annotated[str, typer.Option("--app", help="Stasis application")] = "okno",
    speed: Annotated[float, typer.Option(help="Divide simulated delays by this", min=0.01)] = 1.0,
    operators: Annotated[
        str, typer.Option(help="Comma-separated operator seats (PJSIP endpoints)")
    ] = "",
) -> None:
    """Run the fake Asterisk (ARI REST + WebSocket, AMI) on loopback for the demo and tests."""
    from fakepbx.pbx import DEFAULT_OPERATORS, PbxOptions, serve

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    options = PbxOptions(
        app=app_name,
        username=user,
        password=password,
        speed=speed,
        operators=tuple(operators.split(",")) if operators else DEFAULT_OPERATORS,
    )
    _run_until_signal(serve(host, ari_port, ami_port, options=options))


@app.command("appointments-worker")
def appointments_worker(
    interval: Annotated[float, typer.Option(help="Seconds between rounds", min=1)] = 60.0,
) -> None:
    """Send appointment reminders (SMS, e-mail) and satisfaction follow-ups until stopped."""
    from services.appointments.notify import NotifySettings
    from services.appointments.worker import run_worker

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as urls:
            _run_until_stopped(
                lambda stop: run_worker(
                    settings,
                    NotifySettings(),
                    database_url=urls[0],
                    redis_url=urls[1],
                    stop=stop,
                    interval=interval,
                )
            )
    except StartupError as exc:
        fail(str(exc))


@app.command("complaints-worker")
def complaints_worker(
    interval: Annotated[float, typer.Option(help="Seconds between idle rounds", min=0.1)] = 1.0,
    metrics_port: Annotated[
        int | None, typer.Option(help="Serve the worker's Prometheus metrics on this port")
    ] = None,
) -> None:
    """Deliver complaints and notices to agencies (webhook, e-mail, inbox), and register the
    voice menu's recorded messages as complaints."""
    from services.complaints.worker import run_worker as run_complaints_worker

    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_json)

    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as urls:
            _run_until_stopped(
                lambda stop: run_complaints_worker(
                    settings,
                    database_url=urls[0],
                    redis_url=urls[1],
                    stop=stop,
                    interval=interval,
                    metrics_port=metrics_port,
                )
            )
    except StartupError as exc:
        fail(str(exc))


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ -)")],
    role: Annotated[str, typer.Option(help="operator, supervisor, administrator or agency")],
    full_name: Annotated[str, typer.Option(help="Full name as shown to colleagues")],
    agency_code: Annotated[str | None, typer.Option(help="Agency code (agency role)")] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a staff account (the password is asked for, never passed as an argument)."""
    from services.admin_tasks import create_account

    settings = load_settings()
    configure_logging(level="WARNING", json=settings.log_json)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            fail("The passwords differ")
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as (db, _):
            message = asyncio.run(
                create_account(
                    db,
                    username=username,
                    role=role,
                    full_name=full_name,
                    agency_code=agency_code,
                    password=password,
                )
            )
    except (StartupError, ValueError) as exc:
        fail(str(exc))
    typer.echo(message)


@directory_app.command("import")
def directory_import(
    path: Annotated[Path, typer.Argument(help="agencies.json or agencies.csv", exists=True)],
) -> None:
    """Import offices (and, from JSON, services) into the directory; a bad row rejects the file."""
    from services.admin_tasks import import_directory_file

    settings = load_settings()
    configure_logging(level="WARNING", json=settings.log_json)
    try:
        with service_urls(settings.database_url, settings.redis_url, settings.data_dir) as (db, _):
            message = asyncio.run(import_directory_file(db, path.read_bytes(), filename=path.name))
    except (StartupError, ValueError) as exc:
        fail(str(exc))
    typer.echo(message)


def main() -> None:
    """Entry point of the `okno` console script."""
    app()


if __name__ == "__main__":
    main()
