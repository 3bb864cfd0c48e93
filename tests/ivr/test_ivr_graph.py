"""`okno ivr graph`: Mermaid text always, SVG/PNG through Graphviz when it is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import typer
from ivr_support import LIBRARY, ROOT
from typer.testing import CliRunner

from services.ivr import graph
from services.ivr.cli import register

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz's dot is not installed (apt-get install graphviz)"
)


def okno() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_mermaid_has_every_node_and_labelled_edges() -> None:
    flow = LIBRARY.flows["main"]
    text = graph.to_mermaid(flow)
    lines = text.splitlines()
    assert lines[:2] == ["flowchart TD", "  __start((start)) --> entry"]
    assert '  entry{"entry<br/>branch"}' in lines
    assert '  complaint_operator(["complaint_operator<br/>queue: complaints, priority 1"])' in lines
    assert "  topic_menu -->|7| complaint_menu" in lines
    assert "  entry -->|emergency| emergency_notice" in lines
    assert "  topic_info -->|topic=mfc| info_mfc" in lines
    assert "  greeting --> topic_menu" in lines
    declared = {line.split("[")[0].split("{")[0].split("(")[0].strip() for line in lines[2:]}
    assert set(flow.nodes) <= declared


def test_cli_prints_mermaid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(okno(), ["ivr", "graph", "ivr_scripts/callback.yaml"])
    assert result.exit_code == 0, result.output
    assert "  confirm_caller -->|1| register" in result.stdout


def test_cli_reports_a_broken_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(okno(), ["ivr", "graph", "tests/ivr/broken/invalid.yaml"])
    assert result.exit_code == 2
    assert "node 'hello': unknown kind 'sing'" in result.stderr


@needs_dot
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG")])
def test_svg_and_png_through_graphviz(tmp_path: Path, fmt: str, magic: bytes) -> None:
    out = tmp_path / f"main.{fmt}"
    result = CliRunner().invoke(
        okno(),
        ["ivr", "graph", str(ROOT / "ivr_scripts/main.yaml"), "--format", fmt, "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert magic in out.read_bytes()[:400]


def test_svg_needs_an_output_file() -> None:
    result = CliRunner().invoke(
        okno(), ["ivr", "graph", str(ROOT / "ivr_scripts/main.yaml"), "--format", "svg"]
    )
    assert result.exit_code == 2
    assert "--out" in result.stderr


def test_without_graphviz_the_message_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(
        okno(),
        [
            "ivr",
            "graph",
            str(ROOT / "ivr_scripts/main.yaml"),
            "--format",
            "svg",
            "--out",
            str(tmp_path / "x.svg"),
        ],
    )
    assert result.exit_code == 2
    assert "apt-get install -y graphviz" in result.stderr
    assert not (tmp_path / "x.svg").exists()
