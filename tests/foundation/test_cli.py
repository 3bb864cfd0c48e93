"""The `okno` command as a person runs it: help, clear errors, account creation, import."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from services.demo_seed import DEMO_DIR


def okno(
    *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OKNO_LOG_JSON": "false", **(env or {})},
        check=False,
    )


def test_every_command_has_help() -> None:
    top = okno("--help")
    assert top.returncode == 0
    for command in ("demo", "migrate", "serve", "user", "directory"):
        assert command in top.stdout
    for args in (
        ["serve", "--help"],
        ["user", "create", "--help"],
        ["directory", "import", "--help"],
    ):
        assert okno(*args).returncode == 0


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = okno(
        "migrate",
        env={
            "OKNO_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/okno",
            "OKNO_REDIS_URL": "redis://127.0.0.1:1/0",
            "OKNO_DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 2
    assert "Cannot reach PostgreSQL at 127.0.0.1:1/okno" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_names_the_variable() -> None:
    result = okno("migrate", env={"OKNO_TIMEZONE": "Mars/Olympus"})
    assert result.returncode == 2
    assert "OKNO_TIMEZONE" in result.stderr and "Traceback" not in result.stderr


def test_unknown_service_is_refused() -> None:
    result = okno("serve", "teleport")
    assert result.returncode == 2 and "Unknown service" in result.stderr


@pytest.mark.integration
def test_user_create_and_directory_import(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = {
        "OKNO_DATABASE_URL": database_url,
        "OKNO_REDIS_URL": redis_url,
        "OKNO_DATA_DIR": str(tmp_path),
    }
    imported = okno("directory", "import", str(DEMO_DIR / "agencies.json"), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "offices" in imported.stdout
    name = f"cli-{secrets.token_hex(3)}"
    created = okno(
        "user",
        "create",
        name,
        "--role",
        "supervisor",
        "--full-name",
        "Смирнова Е. В.",
        "--password-stdin",
        env=env,
        stdin="a-long-enough-password\n",
    )
    assert created.returncode == 0, created.stderr
    assert f"Created supervisor '{name}'" in created.stdout
    weak = okno(
        "user",
        "create",
        f"{name}x",
        "--role",
        "operator",
        "--full-name",
        "X",
        "--password-stdin",
        env=env,
        stdin="short\n",
    )
    assert weak.returncode == 2 and "password" in weak.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\nx,y\n")
    refused = okno("directory", "import", str(bad), env=env)
    assert refused.returncode == 2 and "Missing CSV columns" in refused.stderr
