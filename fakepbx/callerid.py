"""Parsing of ARI's ``callerId`` parameter (``"Name" <number>``, ``Name <number>`` or a number)."""

from __future__ import annotations

import re

from fakepbx.objects import CallerId

_WITH_NUMBER = re.compile(r'^\s*"?(?P<name>[^"<]*?)"?\s*<(?P<number>[^>]*)>\s*$')


def parse_caller_id(text: str) -> CallerId:
    match = _WITH_NUMBER.match(text)
    if match:
        return CallerId(match["name"].strip(), match["number"].strip())
    stripped = text.strip()
    if stripped.lstrip("+").isdigit():
        return CallerId("", stripped)
    return CallerId(stripped, "")


def format_caller_id(caller: CallerId) -> str:
    """The ``${CALLERID(all)}`` form used in NoOp() texts: ``"Customer" <5551001>``."""
    return f'"{caller.name}" <{caller.number}>'
