"""Readers for the recorded Asterisk traces in ``<repo>/../shared/asterisk`` (never copied in)."""

from __future__ import annotations

import json
from typing import Any

from panoramisk.message import Message

from tests.support.reference import asterisk_reference

SHARED = asterisk_reference()
TRACES = SHARED / "traces"
API_DOCS = SHARED / "ari-api-docs"

FLOWS = (
    "inbound_bridge",
    "caller_abandon_playback",
    "dtmf_menu",
    "holding_moh_then_agent",
    "agent_no_answer",
    "caller_hangup_while_agent_ringing",
    "blind_transfer_continue",
    "ws_reconnect",
    "record_voice_message",
    "sip_registration_ami",
    "dtmf_during_hold_for_callback",
)


def ari_lines(name: str, kind: str = "ari") -> list[str]:
    """The verbatim WebSocket text messages of ``<name>.ari.jsonl`` (``kind="ari.ws2"``: the
    second websocket of ws_reconnect)."""
    return (TRACES / f"{name}.{kind}.jsonl").read_text().splitlines()


def ari_events(name: str, kind: str = "ari") -> list[dict[str, Any]]:
    return [json.loads(line) for line in ari_lines(name, kind)]


def rest_log(name: str) -> list[dict[str, Any]]:
    lines = (TRACES / f"{name}.ari-rest.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def rest_response(name: str, method: str, path: str, nth: int = 0) -> Any:
    """The recorded response body of the ``nth`` request with this method and path."""
    hits = [r for r in rest_log(name) if r["method"] == method and r["path"] == path]
    return hits[nth]["response"]


def ami_raw(name: str) -> bytes:
    return (TRACES / f"{name}.ami.txt").read_bytes()


def ami_blocks(name: str) -> list[str]:
    """The AMI stream cut into CRLF CRLF-separated blocks, banner first."""
    text = ami_raw(name).decode()
    banner, _, rest = text.partition("\r\n")
    return [banner] + [block for block in rest.split("\r\n\r\n") if block.strip()]


def ami_messages(name: str) -> list[dict[str, str]]:
    """Every AMI event and response of a trace, parsed by panoramisk's own message parser."""
    messages = []
    for block in ami_blocks(name)[1:]:
        message = Message.from_line(block.strip())
        if message is not None:
            messages.append({str(k): str(v) for k, v in message.items() if k != "content"})
    return messages
