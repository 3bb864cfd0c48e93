"""`okno ivr check`: the defects that make a caller stuck, lost or silent.

Finds, per flow file: structure errors, options and branches pointing nowhere, prompts with no
text, nodes no path reaches, dead ends (a node with no way on), loops with no exit, and `goto`s
to flows that do not exist. Each defect is a ``file:node: message`` line.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import NamedTuple

from services.ivr import nodes as kinds
from services.ivr import schema as s


class Defect(NamedTuple):
    source: str
    node: str
    kind: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.source}:{self.node}: {self.message}"
            if self.node
            else f"{self.source}: {self.message}"
        )


def check_path(path: Path, root: Path | None = None) -> list[Defect]:
    """Check one flow file or every flow file of a folder (``goto`` resolves among siblings)."""
    folder = path if path.is_dir() else path.parent
    files = s.flow_files(path) if path.is_dir() else [path]
    known = {p.stem for p in s.flow_files(folder)}
    defects: list[Defect] = []
    if not files:
        defects.append(Defect(str(path), "", "no-flows", "no flow files (*.yaml) found"))
    for file in files:
        defects.extend(check_file(file, known, root))
    return defects


def check_file(path: Path, known_flows: Collection[str], root: Path | None = None) -> list[Defect]:
    try:
        flow = s.read_flow(path, root)
    except s.FlowError as exc:
        return [_invalid(line) for line in str(exc).splitlines()]
    return check_flow(flow, known_flows)


def _invalid(line: str) -> Defect:
    """A `FlowError` line (``file: node 'x': message``) as a ``file:x: message`` defect."""
    match = re.fullmatch(r"(.+?): node '([a-z0-9_]+)': (.*)", line)
    if match:
        return Defect(match[1], match[2], "invalid", match[3])
    source, _, message = line.partition(": ")
    return Defect(source, "", "invalid", message)


def check_flow(flow: s.Flow, known_flows: Collection[str]) -> list[Defect]:
    """Every defect of one parsed flow."""
    problems = [*s.reference_problems(flow), *s.goto_problems(flow, known_flows)]
    problems.extend(_graph_problems(flow))
    return [Defect(flow.source, p.node, p.kind, p.message) for p in problems]


def _successors(flow: s.Flow, node: kinds.Node) -> list[str]:
    return [t for _, t in kinds.edges(node) if t is not None and t in flow.nodes]


def _has_exit(node: kinds.Node) -> bool:
    """Terminal nodes, and input nodes without a default (running out of retries hangs up)."""
    if isinstance(node, kinds.MenuNode | kinds.CollectNode):
        return node.default is None
    return node.kind in kinds.TERMINAL_KINDS


def _graph_problems(flow: s.Flow) -> list[s.Problem]:
    if flow.start not in flow.nodes:
        return []
    succ = {n: _successors(flow, node) for n, node in flow.nodes.items()}
    reachable = _closure([flow.start], succ)
    problems = [
        s.Problem(n, "unreachable", f"unreachable: no path leads here from start '{flow.start}'")
        for n in flow.nodes
        if n not in reachable
    ]
    for n in flow.nodes:
        if n in reachable:
            problems.extend(_dead_end(n, flow.nodes[n]))
    preds: dict[str, list[str]] = {n: [] for n in flow.nodes}
    for n, targets in succ.items():
        for t in targets:
            preds[t].append(n)
    can_exit = _closure([n for n, node in flow.nodes.items() if _has_exit(node)], preds)
    stuck = [n for n in flow.nodes if n in reachable and n not in can_exit]
    reported: set[str] = set()
    for n in stuck:
        if n in reported:
            continue
        cycle = _cycle_through(n, {m: [t for t in succ[m] if t in stuck] for m in stuck})
        if cycle:
            reported.update(cycle)
            path = " → ".join([*cycle, cycle[0]])
            problems.append(s.Problem(n, "loop", f"loop without exit: {path}"))
    return problems


def _dead_end(node_id: str, node: kinds.Node) -> list[s.Problem]:
    missing = [label for label, target in kinds.edges(node) if target is None]
    if not missing:
        return []
    what = (
        "no 'default' for when no branch holds"
        if isinstance(node, kinds.BranchNode)
        else "no 'next'"
    )
    return [s.Problem(node_id, "dead-end", f"dead end: {what}; the caller would be stuck")]


def _closure(seeds: list[str], graph: dict[str, list[str]]) -> set[str]:
    seen = set(seeds)
    frontier = list(seeds)
    while frontier:
        for nxt in graph[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def _cycle_through(start: str, graph: dict[str, list[str]]) -> list[str]:
    """The nodes of a shortest cycle from ``start`` back to itself, or [] when there is none."""
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for n in frontier:
            for t in graph[n]:
                if t == start:
                    path = [n]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return path[::-1]
                if t not in parents:
                    parents[t] = n
                    following.append(t)
        frontier = following
    return []
