"""`okno ivr check` catches each kind of defect in the deliberately broken flows."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from ivr_support import ROOT
from typer.testing import CliRunner

from services.ivr.check import check_path
from services.ivr.cli import register

BROKEN = Path(__file__).parent / "broken"
PREFIX = "tests/ivr/broken/"


def okno() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            "unreachable.yaml",
            [
                (
                    "unreachable",
                    "unreachable.yaml:orphan: unreachable: no path leads here from start 'hello'",
                )
            ],
        ),
        (
            "dead_end.yaml",
            [
                (
                    "dead-end",
                    "dead_end.yaml:choose: dead end: no 'default' for when no branch holds;"
                    " the caller would be stuck",
                ),
                ("dead-end", "dead_end.yaml:info: dead end: no 'next'; the caller would be stuck"),
            ],
        ),
        (
            "missing_prompt.yaml",
            [
                (
                    "missing-prompt",
                    "missing_prompt.yaml:menu: prompt 'menu_text' has no text in 'prompts'",
                )
            ],
        ),
        (
            "loop.yaml",
            [
                ("loop", "loop.yaml:ad_one: loop without exit: ad_one → ad_two → ad_one"),
                ("loop", "loop.yaml:ring: loop without exit: ring → again → ring"),
            ],
        ),
        (
            "unknown_option.yaml",
            [
                (
                    "unknown-target",
                    "unknown_option.yaml:topic_menu: option '9' points to unknown node 'nowhere'",
                )
            ],
        ),
        (
            "unknown_flow.yaml",
            [
                (
                    "unknown-flow",
                    "unknown_flow.yaml:to_night: goto points to unknown flow 'midnight'",
                )
            ],
        ),
        (
            "invalid.yaml",
            [
                (
                    "invalid",
                    "invalid.yaml:hello: unknown kind 'sing'; use one of: 'play', 'menu',"
                    " 'collect', 'say_info', 'say_status', 'branch', 'queue', 'callback', 'record',"
                    " 'transfer', 'survey', 'hangup', 'goto'",
                ),
                ("invalid", "invalid.yaml:menu: options: key '10' is not one of 0-9, * or #"),
            ],
        ),
    ],
)
def test_each_defect_kind_is_found_with_file_and_node(
    file: str, expected: list[tuple[str, str]]
) -> None:
    defects = check_path(BROKEN / file, ROOT)
    assert [(d.kind, str(d)) for d in defects] == [(k, PREFIX + m) for k, m in expected]


def test_the_shipped_flows_are_clean() -> None:
    assert check_path(ROOT / "ivr_scripts", ROOT) == []


def test_cli_exits_non_zero_with_one_line_per_defect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(okno(), ["ivr", "check", "tests/ivr/broken"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    assert all(line.startswith(PREFIX) for line in lines)
    assert "10 problem(s) found" in result.stderr


def test_cli_passes_the_shipped_flows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(okno(), ["ivr", "check"])
    assert result.exit_code == 0, result.output
    assert "no problems found" in result.stdout


def test_cli_refuses_a_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(okno(), ["ivr", "check", str(tmp_path / "absent")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_a_folder_without_flows_is_a_defect(tmp_path: Path) -> None:
    assert [d.kind for d in check_path(tmp_path)] == ["no-flows"]
