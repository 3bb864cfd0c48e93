"""Loading flow files: clear errors naming the file and the node."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
import yaml
from ivr_support import LIBRARY, ROOT

from services.directory.schemas import Topic
from services.ivr.nodes import InfoNode, MenuNode, QueueNode
from services.ivr.schema import FlowError, load_flow, load_library, parse_flow

BROKEN = Path(__file__).parent / "broken"


def test_shipped_flows_load() -> None:
    assert set(LIBRARY.flows) == {"main", "night", "callback", "survey"}
    nodes = LIBRARY.flows["main"].nodes.values()
    topics = {n.topic for n in nodes if isinstance(n, InfoNode)}
    assert topics == {"mfc", "social", "passports", "health", "housing", "techhelp"}


def test_option_pointing_nowhere_names_file_and_node() -> None:
    with pytest.raises(FlowError) as exc:
        load_flow(BROKEN / "unknown_option.yaml", ROOT)
    assert str(exc.value) == (
        "tests/ivr/broken/unknown_option.yaml: node 'topic_menu': "
        "option '9' points to unknown node 'nowhere'"
    )


def test_missing_prompt_is_refused_at_load() -> None:
    with pytest.raises(FlowError, match="node 'menu': prompt 'menu_text' has no text"):
        load_flow(BROKEN / "missing_prompt.yaml", ROOT)


def test_structure_errors_list_every_node() -> None:
    with pytest.raises(FlowError) as exc:
        load_flow(BROKEN / "invalid.yaml", ROOT)
    lines = str(exc.value).splitlines()
    assert lines[0].startswith("tests/ivr/broken/invalid.yaml: node 'hello': unknown kind 'sing'")
    assert lines[1] == (
        "tests/ivr/broken/invalid.yaml: node 'menu': options: key '10' is not one of 0-9, * or #"
    )


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        (
            {"a": {"kind": "collect", "say": "p", "variable": "n", "pattern": "[0-"}},
            "not a valid regular expression",
        ),
        (
            {
                "a": {
                    "kind": "collect",
                    "say": "p",
                    "variable": "n",
                    "min_length": 5,
                    "max_length": 2,
                }
            },
            "min_length is greater",
        ),
        (
            {
                "a": {
                    "kind": "branch",
                    "branches": [{"flag": "night", "variable": "x", "next": "a"}],
                }
            },
            "exactly one of",
        ),
        (
            {"a": {"kind": "branch", "branches": [{"from": "25:00", "to": "06:00", "next": "a"}]}},
            "is not HH:MM",
        ),
        ({"a": {"kind": "transfer", "number": "call mum"}}, "number"),
        ({"a": {"say": "p"}}, "every node needs a 'kind'"),
        ({"Bad-Id": {"kind": "hangup"}}, "use lower-case letters"),
    ],
)
def test_structure_errors(nodes: dict[str, object], message: str) -> None:
    with pytest.raises(FlowError, match=message) as exc:
        parse_flow({"start": "a", "nodes": nodes, "prompts": {"p": "Текст"}}, "x.yaml", "x")
    assert str(exc.value).startswith("x.yaml: ")


def test_not_a_mapping_and_not_yaml(tmp_path: Path) -> None:
    with pytest.raises(FlowError, match="a flow file is a mapping"):
        parse_flow(["start"], "x.yaml", "x")
    bad = tmp_path / "bad.yaml"
    bad.write_text("start: [unclosed", encoding="utf-8")
    with pytest.raises(FlowError, match="bad.yaml: not valid YAML"):
        load_flow(bad)


def test_library_needs_goto_targets_and_a_main_flow(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(
        yaml.safe_dump({"start": "go", "nodes": {"go": {"kind": "goto", "flow": "absent"}}}),
        encoding="utf-8",
    )
    with pytest.raises(FlowError, match="node 'go': goto points to unknown flow 'absent'"):
        load_library(tmp_path)
    (tmp_path / "other.yaml").write_text(
        yaml.safe_dump({"start": "bye", "nodes": {"bye": {"kind": "hangup"}}}), encoding="utf-8"
    )
    with pytest.raises(FlowError, match="no main.yaml"):
        load_library(tmp_path)


def test_every_topic_in_the_flows_is_one_the_directory_and_the_acd_know() -> None:
    known = set(get_args(Topic)) | {"general"}
    used: set[str] = set()
    for flow in LIBRARY.flows.values():
        for node in flow.nodes.values():
            used.update(v for k, v in node.assign.items() if k == "topic")
            if isinstance(node, MenuNode):
                used.update(o.assign["topic"] for o in node.options.values() if "topic" in o.assign)
            if isinstance(node, InfoNode | QueueNode) and node.topic is not None:
                used.add(node.topic)
    assert used == known
