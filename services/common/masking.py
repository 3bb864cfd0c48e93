"""Masking of personal data (phone numbers, e-mail addresses) before anything is logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# A phone number: optional +, then 10-15 digits possibly split by spaces, dashes or brackets.
# Not preceded or followed by "<digit>." so Asterisk channel ids (epoch.seq) stay readable.
_PHONE = re.compile(r"(?<![\w.])\+?\d(?:[\s\-()]*\d){9,14}(?!\w|\.\d)")
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9.\-]+\.[A-Za-z]{2,})")


def _mask_phone(match: re.Match[str]) -> str:
    digits = [c for c in match.group(0) if c.isdigit()]
    prefix = "+" if match.group(0).startswith("+") else ""
    return prefix + digits[0] + "*" * (len(digits) - 3) + "".join(digits[-2:])


def mask_text(text: str) -> str:
    """Replace phone numbers and e-mail addresses in free text by masked forms.

    A phone keeps its first and last two digits (enough to tell calls apart in a log),
    an e-mail its first letter and domain.
    """
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(_mask_phone, text)


def mask_value(value: Any) -> Any:
    """Mask strings, recursing through mappings, lists and tuples."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping):
        return {key: mask_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(item) for item in value)
    return value
