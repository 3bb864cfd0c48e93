"""The complete fake PBX engine: calls, phones, bridges and media in one object."""

from __future__ import annotations

from fakepbx.media import Media


class Engine(Media):
    """All state of one fake Asterisk. Every method runs inside the event loop."""
