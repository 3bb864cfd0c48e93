"""asterisk_conf/ and the fake agree, and the configuration keeps its promises."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from fakepbx.dialplan import okno_dialplan
from fakepbx.pbx import DEFAULT_TRUNKS
from fakepbx.phones import OPERATOR_CONTEXT

CONF = Path(__file__).resolve().parents[2] / "asterisk_conf"
DIDS = {"88005550100", "88005550101", "73843000000", "88005550199"}


def _sections(name: str) -> list[tuple[str, dict[str, str]]]:
    """Asterisk's format allows repeated section names, so parse by hand."""
    sections: list[tuple[str, dict[str, str]]] = []
    for raw in (CONF / name).read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            sections.append((line[1 : line.index("]")], {"__template__": line}))
        elif "=" in line and sections:
            key, _, value = line.partition("=")
            sections[-1][1][key.strip().rstrip(">").strip()] = value.strip()
    return sections


def _extensions(context: str) -> dict[str, list[tuple[str, str]]]:
    steps: dict[str, list[tuple[str, str]]] = {}
    current, exten = None, ""
    for raw in (CONF / "extensions.conf").read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            current = line[1 : line.index("]")]
            continue
        match = re.match(r"(?:exten\s*=>\s*([^,]+),1|same\s*=>\s*n),(\w+)\((.*)\)$", line)
        if current != context or not match:
            continue
        exten = match[1] or exten
        steps.setdefault(exten, []).append((match[2], match[3]))
    return steps


def _as_fake_template(data: str) -> str:
    return (
        data.replace("${EXTEN}", "{exten}")
        .replace("${CALLERID(all)}", "{callerid}")
        .replace("okno,", "{app},")
    )


def test_every_did_enters_stasis_exactly_as_the_fake_does() -> None:
    conf = _extensions("from-pstn")
    assert DIDS <= set(conf)
    fake = okno_dialplan().lookup("from-pstn", "88005550100")
    assert fake is not None
    for did in DIDS:
        assert [(app, _as_fake_template(data)) for app, data in conf[did]] == [
            (step.app, step.data) for step in fake
        ]
    assert conf["_X."][-1] == ("Hangup", "1")


def test_neighbour_calls_enter_stasis_as_overflow() -> None:
    conf = _extensions("from-neighbour")["_X."]
    fake = okno_dialplan().lookup("from-neighbour", "1234")
    assert fake is not None
    assert [(a, _as_fake_template(d)) for a, d in conf] == [(s.app, s.data) for s in fake]
    for context in ("to-neighbour-west", "to-neighbour-east", "to-agency"):
        fake_steps = okno_dialplan().lookup(context, "1234")
        assert fake_steps is not None
        assert [a for a, _ in _extensions(context)["_X."]] == [s.app for s in fake_steps]


def test_pjsip_has_seats_from_a_template_and_the_fakes_trunks() -> None:
    sections = _sections("pjsip.conf")
    endpoints = {
        name: body
        for name, body in sections
        if body.get("type") == "endpoint"
        or "(operator-endpoint)" in body["__template__"]
        or "(neighbour-trunk)" in body["__template__"]
    }
    seats = [n for n, b in sections if "(operator-endpoint)" in b["__template__"]]
    assert len(seats) >= 4 and all(re.fullmatch(r"op\d{4}", s) for s in seats)
    template = dict(sections)["operator-endpoint"]
    assert template["context"] == OPERATOR_CONTEXT
    assert set(DEFAULT_TRUNKS) <= set(endpoints)
    assert any(b.get("type") == "registration" for _, b in sections)


def test_manager_grants_only_the_classes_the_bridge_uses() -> None:
    manager = configparser.ConfigParser(inline_comment_prefixes=(";",), strict=False)
    manager.read(CONF / "manager.conf")
    assert manager["general"]["timestampevents"] == "yes"
    assert set(manager["okno"]["read"].split(",")) == {"system", "call", "dtmf"}
    assert set(manager["okno"]["write"].split(",")) == {"system", "call"}


def test_ari_sends_one_compact_event_per_message() -> None:
    ari = configparser.ConfigParser(inline_comment_prefixes=(";",), strict=False)
    ari.read(CONF / "ari.conf")
    assert ari["general"]["pretty"] == "no"
    assert ari["okno"]["type"] == "user"
