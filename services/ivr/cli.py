"""The ``okno ivr`` and ``okno prompts`` commands; `register` adds them to the main app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from services.ivr import graph
from services.ivr.check import check_path
from services.ivr.prompts import DEFAULT_OUT, ToolsMissing, build_prompts
from services.ivr.schema import FlowError, read_flow

FLOWS_DIR = Path("ivr_scripts")


def _fail(message: str) -> typer.Exit:
    typer.secho(f"okno: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def check(
    path: Annotated[Path, typer.Argument(help="A flow file or a folder of flows")] = FLOWS_DIR,
) -> None:
    """Find unreachable nodes, dead ends, missing prompts, loops and options pointing nowhere."""
    if not path.exists():
        raise _fail(f"{path} does not exist")
    defects = check_path(path, Path.cwd())
    for defect in defects:
        typer.echo(str(defect))
    if defects:
        typer.secho(f"{len(defects)} problem(s) found", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"{path}: no problems found")


def graph_command(
    flow: Annotated[Path, typer.Argument(help="A flow file, e.g. ivr_scripts/main.yaml")],
    fmt: Annotated[
        Literal["mermaid", "svg", "png"], typer.Option("--format", help="Diagram format")
    ] = "mermaid",
    out: Annotated[Path | None, typer.Option(help="Write to this file (SVG/PNG need one)")] = None,
) -> None:
    """Draw a flow: Mermaid text, or SVG/PNG when Graphviz is installed."""
    try:
        parsed = read_flow(flow, Path.cwd())
    except (FlowError, OSError) as exc:
        raise _fail(str(exc)) from None
    if fmt == "mermaid":
        text = graph.to_mermaid(parsed)
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")
        return
    if out is None:
        raise _fail(f"--format {fmt} writes a file: add --out FILE.{fmt}")
    try:
        out.write_bytes(graph.render(parsed, fmt))
    except graph.GraphvizMissing as exc:
        raise _fail(f"{exc}; Mermaid text needs nothing: --format mermaid") from None
    typer.echo(f"Wrote {out}")


def build(
    flows: Annotated[Path, typer.Option(help="Folder of flow files")] = FLOWS_DIR,
    out: Annotated[Path, typer.Option(help="Output folder (Asterisk's sounds/okno)")] = DEFAULT_OUT,
) -> None:
    """Synthesise the prompts into 8 kHz WAV; only changed texts are rebuilt."""
    try:
        report = build_prompts(flows, out)
    except ToolsMissing as exc:
        raise _fail(str(exc)) from None
    except FlowError as exc:
        raise _fail(f"the flows have errors, run `okno ivr check`:\n{exc}") from None
    typer.echo(f"{len(report.built)} prompt(s) built, {len(report.kept)} unchanged, in {out}")


def register(app: typer.Typer) -> None:
    """Add ``ivr check|graph`` and ``prompts build`` to the ``okno`` command."""
    ivr_app = typer.Typer(help="Voice menus (ivr_scripts/).", no_args_is_help=True)
    ivr_app.command("check")(check)
    ivr_app.command("graph")(graph_command)
    prompts_app = typer.Typer(help="Voice prompts.", no_args_is_help=True)
    prompts_app.command("build")(build)
    app.add_typer(ivr_app, name="ivr")
    app.add_typer(prompts_app, name="prompts")
