"""`okno ivr graph`: a flow as a diagram, for the docs and for supervisors.

Mermaid text needs nothing installed (GitHub and most wikis render it); SVG and PNG go through
Graphviz's ``dot`` when it is on the PATH.
"""

from __future__ import annotations

import shutil
import subprocess

from services.ivr import nodes as n
from services.ivr import schema as s

INSTALL_GRAPHVIZ = "Graphviz is not installed: sudo apt-get install -y graphviz"


class GraphvizMissing(RuntimeError):
    """``dot`` is not on the PATH; the message says how to install it."""


def describe_node(node: n.Node) -> str:
    """A short second line for a node: what it does."""
    match node:
        case n.QueueNode():
            topic = node.topic or "$topic"
            return f"queue: {topic}, priority {node.priority}"
        case n.InfoNode():
            return f"say_info: {node.topic}"
        case n.StatusNode():
            return f"say_status: {node.number}"
        case n.CollectNode():
            return f"collect: {node.variable}"
        case n.CallbackNode():
            return f"callback: {node.when}"
        case n.TransferNode():
            return f"transfer: {node.number}"
        case n.RecordNode():
            return f"record: {node.message}"
        case n.GotoNode():
            return f"goto: {node.flow}"
        case n.HangupNode():
            return f"hangup: {node.reason}"
        case n.SurveyNode():
            return f"survey: {len(node.questions)} questions"
    return node.kind


def _edge_label(label: str) -> str:
    """``option '1'`` → ``1``, ``branch 'night'`` → ``night``; others stay as they are."""
    if "'" in label:
        return label.split("'")[1]
    return "" if label == "next" else label


def _edges(flow: s.Flow) -> list[tuple[str, str, str]]:
    return [
        (node_id, target, _edge_label(label))
        for node_id, node in flow.nodes.items()
        for label, target in n.edges(node)
        if target is not None and target in flow.nodes
    ]


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(flow: s.Flow) -> str:
    """The flow as a Mermaid ``flowchart``: diamonds branch, rounded boxes end the menu."""
    lines = ["flowchart TD", f"  __start((start)) --> {flow.start}"]
    for node_id, node in flow.nodes.items():
        text = _mermaid_text(f"{node_id}<br/>{describe_node(node)}")
        if isinstance(node, n.BranchNode):
            lines.append(f'  {node_id}{{"{text}"}}')
        elif node.kind in n.TERMINAL_KINDS:
            lines.append(f'  {node_id}(["{text}"])')
        else:
            lines.append(f'  {node_id}["{text}"]')
    for source, target, label in _edges(flow):
        arrow = f"-->|{_mermaid_text(label)}|" if label else "-->"
        lines.append(f"  {source} {arrow} {target}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(flow: s.Flow) -> str:
    """The flow in Graphviz's DOT language."""
    lines = [
        f'digraph "{_dot_text(flow.name)}" {{',
        '  rankdir=TB; node [fontname="DejaVu Sans", fontsize=10];',
        '  __start [shape=circle, label="start"];',
        f'  __start -> "{flow.start}";',
    ]
    for node_id, node in flow.nodes.items():
        shape = "box"
        if isinstance(node, n.BranchNode):
            shape = "diamond"
        elif node.kind in n.TERMINAL_KINDS:
            shape = "ellipse"
        label = _dot_text(f"{node_id}\n{describe_node(node)}").replace("\n", "\\n")
        lines.append(f'  "{node_id}" [shape={shape}, label="{label}"];')
    for source, target, label in _edges(flow):
        lines.append(f'  "{source}" -> "{target}" [label="{_dot_text(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(flow: s.Flow, fmt: str) -> bytes:
    """SVG or PNG bytes through ``dot``; `GraphvizMissing` when it is not installed."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing(INSTALL_GRAPHVIZ)
    result = subprocess.run(
        [dot, f"-T{fmt}"], input=to_dot(flow).encode("utf-8"), capture_output=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"dot failed: {result.stderr.decode(errors='replace').strip()}")
    return result.stdout
