"""The wire form of router events and commands on Redis Streams (flat `str → str` entries).

Events and commands are the core's own NamedTuples; on the wire each entry is its type name
and its fields as one JSON document, so adding a field never breaks an older reader's parser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from services.acd import commands as c
from services.acd.events import Event, event_from_record, event_to_record
from services.common.streams import Streams

#: Streams of one centre (names under the centre's key prefix).
EVENTS = "events"  # bridge, workspace, supervisors → router
COMMANDS = "commands"  # router → bridge
ROUTER_LOG = "router-log"  # every applied event with its outputs: replay and call records

#: Outputs the bridge acts upon; the rest (`RECORDS`) are records of decisions.
EXECUTABLE = c.ACTIONS


def event_fields(event: Event) -> dict[str, str]:
    """A stream entry for an event."""
    record = event_to_record(event)
    return {"type": str(record.pop("type")), "body": json.dumps(record, ensure_ascii=False)}


async def send_events(streams: Streams, *events: Event) -> None:
    """Hand events to the router (the `events` stream), in order."""
    for event in events:
        await streams.add(EVENTS, event_fields(event))


def event_from_fields(fields: Mapping[str, str]) -> Event:
    """Read an event entry; raises ValueError for an unknown type or bad body."""
    try:
        body = json.loads(fields["body"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed event entry: {exc}") from exc
    return event_from_record({"type": fields.get("type"), **body})


def command_fields(command: c.Command) -> dict[str, str]:
    """A stream entry for a command, keyed by its idempotency id."""
    record = c.command_to_record(command)
    command_id = getattr(command, "command_id", "")
    return {
        "type": str(record.pop("type")),
        "command_id": str(command_id),
        "body": json.dumps(record, ensure_ascii=False),
    }


def command_from_fields(fields: Mapping[str, str]) -> c.Command:
    """Read a command entry."""
    try:
        body = json.loads(fields["body"])
    except (KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"malformed command entry: {exc}") from exc
    return c.command_from_record({"type": fields.get("type"), **body})
