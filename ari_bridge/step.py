"""One decision of the call controller: what to do in Asterisk and what to tell others."""

from __future__ import annotations

from dataclasses import dataclass, field

from ari_bridge import actions as a
from ari_bridge.menus import Note
from services.acd import events as r


@dataclass(slots=True)
class Step:
    """The outcome of one input: what to do in Asterisk, what the service itself must do
    (menu timers, knowledge look-ups, copying recordings), what to tell the router and what
    to note elsewhere."""

    actions: list[a.Action] = field(default_factory=list)
    router_events: list[r.Event] = field(default_factory=list)
    effects: list[a.MenuEffect] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
