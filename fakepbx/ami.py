"""The AMI TCP line protocol: banner, Login/Logoff/Ping, the PJSIP and device-state lists,
PlayDTMF, and the call events the engine mirrors onto the bus (``timestampevents = yes``)."""

from __future__ import annotations

import asyncio
import contextlib
import time

from fakepbx.bus import AmiHeaders
from fakepbx.clock import ami_timestamp, ari_timestamp
from fakepbx.engine import Engine
from fakepbx.objects import Channel

BANNER = "Asterisk Call Manager/11.0.0\r\n"
_DEVICE_STATE_TEXT = {
    "NOT_INUSE": "Not in use",
    "INUSE": "In use",
    "RINGING": "Ringing",
    "UNAVAILABLE": "Unavailable",
    "UNKNOWN": "Unknown",
}


def render(headers: AmiHeaders) -> str:
    return "".join(f"{key}: {value}\r\n" for key, value in headers) + "\r\n"


async def read_message(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """One action: ``Key: Value`` lines up to an empty line (keys case-insensitive)."""
    message: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if not line:
            return None
        text = line.decode(errors="replace").rstrip("\r\n")
        if not text:
            if message:
                return message
            continue
        key, _, value = text.partition(":")
        message[key.strip().lower()] = value.strip()


class AmiSession:
    def __init__(
        self,
        engine: Engine,
        credentials: tuple[str, str],
        writer: asyncio.StreamWriter,
        started: float,
    ) -> None:
        self.engine = engine
        self.credentials = credentials
        self.writer = writer
        self.started = started
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.logged_in = False

    def reply(self, action_id: str | None, headers: AmiHeaders, response: str = "Success") -> None:
        lead: AmiHeaders = [("Response", response)]
        if action_id is not None:
            lead.append(("ActionID", action_id))
        self.outbox.put_nowait(render(lead + headers))

    def event(self, name: str, action_id: str | None, headers: AmiHeaders) -> None:
        lead: AmiHeaders = [("Event", name)]
        if action_id is not None:
            lead.append(("ActionID", action_id))
        self.outbox.put_nowait(render(lead + headers))

    async def handle(self, message: dict[str, str]) -> bool:
        """Run one action; False ends the session."""
        action = message.get("action", "").lower()
        action_id = message.get("actionid")
        if action == "login":
            self._login(message, action_id)
        elif not self.logged_in:
            self.reply(action_id, [("Message", "Authentication Required")], "Error")
        elif action == "logoff":
            self.reply(action_id, [("Message", "Thanks for all the fish.")], "Goodbye")
            return False
        elif action == "ping":
            self.reply(action_id, [("Ping", "Pong"), ("Timestamp", ami_timestamp())])
        elif action == "pjsipshowendpoints":
            self._endpoints(action_id)
        elif action == "pjsipshowcontacts":
            self._contacts(action_id)
        elif action == "devicestatelist":
            self._device_states(action_id)
        elif action == "playdtmf":
            self._play_dtmf(message, action_id)
        else:
            self.reply(action_id, [("Message", "Invalid/unknown command")], "Error")
        return True

    def _login(self, message: dict[str, str], action_id: str | None) -> None:
        if (message.get("username"), message.get("secret")) != self.credentials:
            self.reply(action_id, [("Message", "Authentication failed")], "Error")
            return
        self.logged_in = True
        self.reply(action_id, [("Message", "Authentication accepted")])
        uptime = str(int(time.monotonic() - self.started))
        self.event(
            "FullyBooted",
            None,
            [
                ("Privilege", "system,all"),
                ("Uptime", uptime),
                ("LastReload", uptime),
                ("Status", "Fully Booted"),
            ],
        )
        now = ari_timestamp()
        self.event(
            "SuccessfulAuth",
            None,
            [
                ("Privilege", "security,all"),
                ("Timestamp", ami_timestamp()),
                ("EventTV", now),
                ("Severity", "Informational"),
                ("Service", "AMI"),
                ("EventVersion", "1"),
                ("AccountID", self.credentials[0]),
                ("SessionID", f"0x{id(self):x}"),
                ("LocalAddress", "IPV4/TCP/127.0.0.1/5038"),
                ("RemoteAddress", "IPV4/TCP/127.0.0.1/0"),
                ("UsingPassword", "0"),
                ("SessionTV", now),
            ],
        )
        if message.get("events", "on").lower() != "off":
            self.engine.bus.ami_listeners.append(self.outbox)

    def _list(
        self,
        action_id: str | None,
        message: str,
        items: list[tuple[str, AmiHeaders]],
        complete: str,
    ) -> None:
        self.reply(action_id, [("EventList", "start"), ("Message", message)])
        for name, headers in items:
            self.event(name, action_id, headers)
        self.event(complete, action_id, [("EventList", "Complete"), ("ListItems", str(len(items)))])

    def _endpoints(self, action_id: str | None) -> None:
        items = []
        for ep in self.engine.endpoints.values():
            contacts = f"{ep.resource}/{ep.contact_uri}," if ep.contact_uri else ""
            state = self.engine.device_states.get(f"PJSIP/{ep.resource}", ep.device_state)
            items.append(
                (
                    "EndpointList",
                    [
                        ("ObjectType", "endpoint"),
                        ("ObjectName", ep.resource),
                        ("Transport", "transport-udp"),
                        ("Aor", ep.resource),
                        ("Auths", ep.resource),
                        ("OutboundAuths", ""),
                        ("Contacts", contacts),
                        ("DeviceState", _DEVICE_STATE_TEXT.get(state, "Unknown")),
                        ("ActiveChannels", str(len(ep.channel_ids))),
                    ],
                )
            )
        self._list(
            action_id,
            "A listing of Endpoints follows, presented as EndpointList events",
            items,
            "EndpointListComplete",
        )

    def _contacts(self, action_id: str | None) -> None:
        items = []
        for ep in self.engine.endpoints.values():
            if ep.contact_uri is None:
                continue
            items.append(
                (
                    "ContactList",
                    [
                        ("ObjectType", "contact"),
                        ("ObjectName", f"{ep.resource};@fake"),
                        ("ViaAddr", "127.0.0.1"),
                        ("QualifyTimeout", "3.000000"),
                        ("Qualify2xxOnly", "false"),
                        ("CallId", f"{ep.resource}-fake@127.0.0.1"),
                        ("RegServer", ""),
                        ("PruneOnBoot", "no"),
                        ("Path", ""),
                        ("Endpoint", ep.resource),
                        ("ViaPort", ep.contact_uri.rsplit(":", 1)[1]),
                        ("AuthenticateQualify", "no"),
                        ("Uri", ep.contact_uri),
                        ("QualifyFrequency", "0"),
                        ("UserAgent", "okno-fake-softphone"),
                        ("ExpirationTime", str(int(time.time()) + 60)),
                        ("OutboundProxy", ""),
                        ("Status", "NonQualified"),
                        ("RoundtripUsec", "N/A"),
                    ],
                )
            )
        self._list(
            action_id,
            "A listing of Contacts follows, presented as ContactList events",
            items,
            "ContactListComplete",
        )

    def _device_states(self, action_id: str | None) -> None:
        items = [
            ("DeviceStateChange", [("Device", device), ("State", state)])
            for device, state in self.engine.device_states.items()
        ]
        self._list(action_id, "Device State Changes will follow", items, "DeviceStateListComplete")

    def _play_dtmf(self, message: dict[str, str], action_id: str | None) -> None:
        name, digit = message.get("channel", ""), message.get("digit", "")
        target: Channel | None = next(
            (c for c in self.engine.channels.values() if c.name == name), None
        )
        if target is None or len(digit) != 1:
            self.reply(
                action_id,
                [
                    (
                        "Message",
                        f"Channel '{name}' not found" if target is None else "No digit specified",
                    )
                ],
                "Error",
            )
            return
        duration = int(message.get("duration") or 100)
        self.reply(action_id, [("Message", "DTMF successfully queued")])
        self.engine.supervisor.spawn(
            self.engine.send_dtmf(target, digit, duration), f"ami-dtmf-{target.id}"
        )


class AmiServer:
    """Serves AMI sessions on one TCP port until closed."""

    def __init__(self, engine: Engine, credentials: tuple[str, str]) -> None:
        self.engine = engine
        self.credentials = credentials
        self.started = time.monotonic()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in list(self.writers):
                writer.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = AmiSession(self.engine, self.credentials, writer, self.started)
        self.writers.add(writer)
        writer.write(BANNER.encode())
        try:
            async with asyncio.TaskGroup() as group:
                pump = group.create_task(self._pump(session))
                while (message := await read_message(reader)) is not None:
                    if not await session.handle(message):
                        break
                await session.outbox.join()
                pump.cancel()
        except* (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away (the TaskGroup reports it inside an exception group)
        finally:
            self.writers.discard(writer)
            if session.outbox in self.engine.bus.ami_listeners:
                self.engine.bus.ami_listeners.remove(session.outbox)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @staticmethod
    async def _pump(session: AmiSession) -> None:
        while True:
            text = await session.outbox.get()
            session.writer.write(text.encode())
            await session.writer.drain()
            session.outbox.task_done()
