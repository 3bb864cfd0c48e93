"""Operators read the caller's menu choices under Russian names, never raw variable names."""

from __future__ import annotations

from ivr_support import LIBRARY

from services.ivr.labels import BUILT_IN, variable_labels
from services.ivr.nodes import CollectNode, MenuNode


def test_every_menu_and_collected_number_of_the_shipped_flows_has_a_russian_label() -> None:
    labels = variable_labels(LIBRARY)
    for flow in LIBRARY.flows.values():
        for node_id, node in flow.nodes.items():
            if isinstance(node, MenuNode):
                assert labels.get(f"choice_{node_id}"), f"{flow.name}:{node_id} has no label"
            elif isinstance(node, CollectNode):
                assert labels.get(node.variable), f"{flow.name}:{node_id} has no label"
    assert all(any("а" <= ch <= "я" for ch in label.lower()) for label in labels.values())


def test_labels_come_from_the_nodes_and_the_built_in_names() -> None:
    labels = variable_labels(LIBRARY)
    assert labels["choice_topic_menu"] == "Выбор темы"
    assert labels["application_number"] == "Номер заявления"
    assert {k: labels[k] for k in BUILT_IN} == BUILT_IN
