"""Russian phone numbers as people write them, to E.164 (`+7` and ten digits) — pure."""

from __future__ import annotations

import re

#: What people put between digits: spaces, dashes, dots, brackets.
_SEPARATORS = re.compile(r"[\s\-.()]")


class BadNumber(ValueError):
    """Not a Russian phone number."""


def to_e164(text: str) -> str:
    """`+7 (923) 123-45-67`, `8 923 123 45 67`, `79231234567` or `9231234567` → `+79231234567`.

    Only Russian numbers: the centre calls citizens back through a Russian trunk."""
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("+"):
        if not compact.startswith("+7"):
            raise BadNumber("only Russian numbers (+7) can be called back")
        digits = compact[2:]
    elif len(compact) == 11 and compact[:1] in ("7", "8"):
        digits = compact[1:]
    else:
        digits = compact
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise BadNumber("a Russian number has ten digits after +7 or 8")
    if digits[0] not in "3489":
        # +7 6xx and 7xx are Kazakhstan; 0, 1, 2 and 5 are not allocated.
        raise BadNumber("a Russian area or mobile code starts with 3, 4, 8 or 9")
    return "+7" + digits
