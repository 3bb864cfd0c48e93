"""The live state of a centre in Redis: `<prefix>:live` (a key and a PUBLISH channel).

The active router writes the document of `services.acd.wallboard.live_document` every second
with a short expiry, so a reader that finds no key knows no router is routing.
"""

from __future__ import annotations

import json
from typing import Any

LIVE = "live"
#: A document older than this is gone: readers treat the centre as not routed.
LIVE_TTL_S = 5


def live_key(prefix: str) -> str:
    """Key and channel of a centre's live state (`okno:<centre>:live`)."""
    return f"{prefix}:{LIVE}"


async def publish_live(redis: Any, key: str, document: dict[str, Any]) -> None:
    """Store the document (expiring) and publish it to the subscribers, in one round trip."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(key, text, ex=LIVE_TTL_S)
        pipe.publish(key, text)
        await pipe.execute()


async def read_live(redis: Any, key: str) -> dict[str, Any] | None:
    """The last document, or None when no router has written one for a few seconds."""
    text = await redis.get(key)
    if not text:
        return None
    return parse_live(text)


def parse_live(text: str | bytes) -> dict[str, Any] | None:
    """A stored or published document; None for anything that is not one."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None
