"""How a prompt's text becomes an Asterisk media name.

A prompt file is named by a hash of its text, so the builder rebuilds only what changed and
the engine can name the media of any text — including texts known only during a call (the
emergency announcement, a knowledge-base answer) — without asking the builder.
"""

from __future__ import annotations

import hashlib

MEDIA_PREFIX = "sound:okno/"
HASH_LENGTH = 16


def prompt_hash(text: str) -> str:
    """The file stem of a prompt: a SHA-256 prefix of its normalised text."""
    normalised = " ".join(text.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def prompt_media(text: str) -> str:
    """The ARI media URI of a prompt's text (``sound:okno/<hash>``)."""
    return f"{MEDIA_PREFIX}{prompt_hash(text)}"
