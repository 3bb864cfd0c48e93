"""The voice-menu file format: one YAML file per flow, nodes by id, prompt texts beside them.

`parse_flow` checks the structure (pydantic) and `load_flow` also checks that every reference
resolves — targets and prompt ids — because the engine cannot run a flow that points nowhere.
Errors name the file and the node: ``ivr_scripts/main.yaml: node 'topic_menu': option '9'
points to unknown node 'nowhere'``. Graph defects (unreachable nodes, dead ends, loops) are the
checker's business (`services.ivr.check`); the node kinds are in `services.ivr.nodes`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.ivr.nodes import GotoNode, Node, edges, prompt_ids


class FlowError(ValueError):
    """A flow file that cannot be run; the message lists every problem as ``file: ...`` lines."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Flow(_Model):
    """One voice menu: its DIDs, its start node, its nodes and its prompts' Russian texts."""

    name: str
    source: str
    description: str = ""
    dids: tuple[str, ...] = ()
    start: str
    nodes: dict[str, Node]
    prompts: dict[str, str] = Field(default_factory=dict)

    @field_validator("nodes")
    @classmethod
    def _ids(cls, value: dict[str, Node]) -> dict[str, Node]:
        for node_id in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", node_id):
                raise ValueError(f"node id {node_id!r}: use lower-case letters, digits and _")
        return value


class Problem(NamedTuple):
    """One defect of a flow: the node ("" for the file), its kind and a message for people."""

    node: str
    kind: str
    message: str


def reference_problems(flow: Flow) -> list[Problem]:
    """Every target that is not a node and every prompt id with no text."""
    problems: list[Problem] = []
    if flow.start not in flow.nodes:
        problems.append(
            Problem("", "unknown-target", f"start points to unknown node '{flow.start}'")
        )
    for node_id, node in flow.nodes.items():
        for label, target in edges(node):
            if target is not None and target not in flow.nodes:
                message = f"{label} points to unknown node '{target}'"
                problems.append(Problem(node_id, "unknown-target", message))
        for prompt in dict.fromkeys(prompt_ids(node)):
            if prompt not in flow.prompts:
                message = f"prompt '{prompt}' has no text in 'prompts'"
                problems.append(Problem(node_id, "missing-prompt", message))
    return problems


def where(source: str, node: str) -> str:
    return f"{source}: node '{node}'" if node else source


def parse_flow(data: Any, source: str, name: str) -> Flow:
    """Validate a flow's structure; raise `FlowError` naming the file and node of each problem."""
    if not isinstance(data, Mapping):
        raise FlowError(f"{source}: a flow file is a mapping with 'start', 'nodes' and 'prompts'")
    try:
        return Flow.model_validate({**data, "name": name, "source": source})
    except ValidationError as exc:
        raise FlowError("\n".join(_explain(source, error) for error in exc.errors())) from None


def _explain(source: str, error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "union_tag_invalid":
        message = (
            f"unknown kind '{error['ctx']['tag']}'; use one of: {error['ctx']['expected_tags']}"
        )
    elif error["type"] == "union_tag_not_found":
        message = "every node needs a 'kind'"
    if len(loc) >= 2 and loc[0] == "nodes":
        node, rest = loc[1], loc[3:] if len(loc) > 2 else []
        path = ".".join(rest)
        return f"{where(source, node)}: {path + ': ' if path else ''}{message}"
    return f"{source}: {'.'.join(loc)}: {message}"


def read_flow(path: Path, root: Path | None = None) -> Flow:
    """Parse one flow file (structure only); ``root`` makes the source name relative."""
    source = (
        str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else str(path)
    )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FlowError(f"{source}: not valid YAML: {exc}") from None
    return parse_flow(data, source, path.stem)


def load_flow(path: Path, root: Path | None = None) -> Flow:
    """Parse a flow file and insist that every reference resolves."""
    flow = read_flow(path, root)
    problems = reference_problems(flow)
    if problems:
        raise FlowError("\n".join(f"{where(flow.source, p.node)}: {p.message}" for p in problems))
    return flow


class FlowLibrary(_Model):
    """All flows of a folder; picks the flow of a dialled number."""

    flows: dict[str, Flow]
    default: str = "main"

    def for_did(self, did: str) -> Flow:
        for flow in self.flows.values():
            if did in flow.dids:
                return flow
        return self.flows[self.default]


def flow_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))


def load_library(folder: Path, root: Path | None = None) -> FlowLibrary:
    """Load every flow of a folder; `goto` targets must name a flow of the same folder."""
    flows: dict[str, Flow] = {}
    errors: list[str] = []
    for path in flow_files(folder):
        try:
            flows[path.stem] = load_flow(path, root)
        except FlowError as exc:
            errors.append(str(exc))
    for flow in flows.values():
        errors.extend(
            f"{where(flow.source, p.node)}: {p.message}" for p in goto_problems(flow, flows)
        )
    if not errors and "main" not in flows:
        errors.append(f"{folder}: no main.yaml (the flow of numbers no other flow claims)")
    if errors:
        raise FlowError("\n".join(errors))
    return FlowLibrary(flows=flows)


def goto_problems(flow: Flow, flows: Collection[str]) -> list[Problem]:
    return [
        Problem(node_id, "unknown-flow", f"goto points to unknown flow '{node.flow}'")
        for node_id, node in flow.nodes.items()
        if isinstance(node, GotoNode) and node.flow not in flows
    ]
