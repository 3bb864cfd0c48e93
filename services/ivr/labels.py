"""Russian names of the menu variables, for the operator's call card — pure."""

from __future__ import annotations

from services.ivr.nodes import CollectNode, MenuNode
from services.ivr.schema import FlowLibrary

#: Variables every flow may carry, whatever its nodes are called (the card shows the caller's
#: number and line apart, so `caller` and `did` need no name here).
BUILT_IN = {"topic": "Тема", "status_result": "Поиск жалобы"}


def variable_labels(library: FlowLibrary) -> dict[str, str]:
    """``choice_<menu>`` and collected variables named by their node's ``label``; variables of
    nodes without one keep their own name on the card."""
    labels = dict(BUILT_IN)
    for flow in library.flows.values():
        for node_id, node in flow.nodes.items():
            if not node.label:
                continue
            if isinstance(node, MenuNode):
                labels[f"choice_{node_id}"] = node.label
            elif isinstance(node, CollectNode):
                labels[node.variable] = node.label
    return labels
