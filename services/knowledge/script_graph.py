"""Pure checks of a call script's step graph, so the workspace never meets a dead end."""

from __future__ import annotations

from collections.abc import Sequence

# (id, kind, next, option targets, has an offer)
StepShape = tuple[str, str, str | None, Sequence[str], bool]


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        if node in seen or node not in edges:
            continue
        seen.add(node)
        stack.extend(edges[node])
    return seen


def script_problems(start: str, steps: Sequence[StepShape]) -> list[str]:
    """Why a script cannot be run step by step; an empty list means it can."""
    problems: list[str] = []
    ids = [step[0] for step in steps]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate step ids: {', '.join(duplicates)}")
    known = set(ids)
    if start not in known:
        problems.append(f"start step {start!r} does not exist")
    edges: dict[str, list[str]] = {}
    for step_id, kind, nxt, targets, has_offer in steps:
        outgoing = ([nxt] if nxt else []) + list(targets)
        edges[step_id] = outgoing
        for target in outgoing:
            if target not in known:
                problems.append(f"step {step_id!r} leads to unknown step {target!r}")
        if kind == "closing" and outgoing:
            problems.append(f"closing step {step_id!r} must end the call")
        if kind != "closing" and not outgoing:
            problems.append(f"step {step_id!r} is a dead end (only closing steps end a call)")
        if kind == "offer" and not has_offer:
            problems.append(f"offer step {step_id!r} must say what it offers")
    if problems:
        return problems
    reachable = _reachable(start, edges)
    unreachable = [i for i in ids if i not in reachable]
    if unreachable:
        problems.append(f"steps never reached from the start: {', '.join(unreachable)}")
    kinds = {step[0]: step[1] for step in steps}
    if not any(kinds[i] == "satisfaction" for i in reachable):
        problems.append("the script must ask the satisfaction question (a 'satisfaction' step)")
    if not any(kinds[i] == "closing" for i in reachable):
        problems.append("the script has no closing step")
    return problems
