"""A real TCP server on 127.0.0.1 speaking the AMI line protocol from a recorded ``*.ami.txt``.

It answers actions with the recorded responses (echoing the client's ActionID, as Asterisk
does) and streams the recorded unsolicited events, optionally in chunks with the connection
dropped after each chunk but the last.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from bridge_traces import ami_blocks

CRLF = "\r\n"


def _headers(block: str) -> dict[str, str]:
    pairs = (line.partition(": ") for line in block.split(CRLF) if ": " in line)
    return {key: value for key, _, value in pairs}


@dataclass
class AmiReplayServer:
    trace: str
    chunks: list[int] = field(default_factory=list)
    answer_pings: bool = True
    accept_login: bool = True
    actions: list[dict[str, str]] = field(default_factory=list)
    connections: int = 0
    sent_events: int = 0

    def __post_init__(self) -> None:
        blocks = ami_blocks(self.trace)
        self.banner = blocks[0]
        self.by_action_id: dict[str, list[str]] = {}
        self.events: list[str] = []
        for block in blocks[1:]:
            action_id = _headers(block).get("ActionID")
            if action_id is None:
                self.events.append(block.strip(CRLF))
            else:
                self.by_action_id.setdefault(action_id, []).append(block.strip(CRLF))

    def _answer(self, recorded_id: str, action_id: str) -> str:
        return "".join(
            re.sub(r"^ActionID: [^\r\n]*", f"ActionID: {action_id}", block, flags=re.M) + CRLF * 2
            for block in self.by_action_id[recorded_id]
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        limit = self.chunks[index] if index < len(self.chunks) else None
        writer.write((self.banner + CRLF).encode())
        try:
            while raw := await reader.readuntil(b"\r\n\r\n"):
                action = _headers(raw.decode().strip(CRLF))
                self.actions.append(action)
                if not await self._respond(action, writer, limit):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _respond(
        self, action: dict[str, str], writer: asyncio.StreamWriter, limit: int | None
    ) -> bool:
        """Answer one action; False when this connection is to be dropped now."""
        name, action_id = action.get("Action", "").lower(), action.get("ActionID", "")
        if name == "login" and not self.accept_login:
            writer.write(
                f"Response: Error{CRLF}ActionID: {action_id}{CRLF}"
                f"Message: Authentication failed{CRLF * 2}".encode()
            )
        elif name == "login":
            writer.write(self._answer("login", action_id).encode())
        elif name == "devicestatelist":
            writer.write(self._answer("devstates", action_id).encode())
            end = (
                len(self.events)
                if limit is None
                else min(self.sent_events + limit, len(self.events))
            )
            for block in self.events[self.sent_events : end]:
                writer.write((block + CRLF * 2).encode())
            self.sent_events = end
            await writer.drain()
            return limit is None
        elif name == "ping" and self.answer_pings:
            writer.write(
                f"Response: Success{CRLF}ActionID: {action_id}{CRLF}Ping: Pong{CRLF}"
                f"Timestamp: 1796037933.000000{CRLF * 2}".encode()
            )
        elif name == "logoff":
            writer.write(self._answer("logoff", action_id).encode())
        elif name != "ping":
            writer.write(
                f"Response: Error{CRLF}ActionID: {action_id}{CRLF}"
                f"Message: Invalid/unknown command{CRLF * 2}".encode()
            )
        await writer.drain()
        return True

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[int]:
        """Listen on an ephemeral loopback port; yields the port."""
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        async with server:
            yield server.sockets[0].getsockname()[1]
