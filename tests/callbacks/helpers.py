"""A router log written by hand, entry by entry, in the router's own wire form."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from services.acd import commands as c
from services.acd.events import Event
from services.common.streams import Streams
from services.router.wire import ROUTER_LOG, event_fields


@dataclass
class RouterLog:
    """Appends entries as `RouterRunner._commit` does; `seq` numbers the outputs."""

    streams: Streams
    seq: int = 0
    ids: list[str] = field(default_factory=list)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    async def add(self, event: Event, now: float, *outputs: c.Command) -> str:
        fields = {
            **event_fields(event),
            "now": repr(now),
            "source": "",
            "outputs": json.dumps([c.command_to_record(o) for o in outputs], ensure_ascii=False),
        }
        entry_id = await self.streams.add(ROUTER_LOG, fields)
        self.ids.append(entry_id)
        return entry_id
