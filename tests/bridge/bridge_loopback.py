"""Real servers on 127.0.0.1 for the bridge's tests: an HTTP server replaying recorded ARI REST
answers, and a scripted ARI event WebSocket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class AriRestReplay:
    """ASGI app answering each request with the first unused recorded exchange that has the
    same method, path and query; anything else gets 599 and is kept in ``unexpected``."""

    recorded: list[dict[str, Any]]
    received: list[Received] = field(default_factory=list)
    unexpected: list[Received] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        raw_body = await request.body()
        got = Received(
            request.method,
            request.url.path,
            dict(request.query_params),
            json.loads(raw_body) if raw_body else None,
        )
        self.received.append(got)
        self.auth.append(request.headers.get("authorization"))
        for index, entry in enumerate(self.recorded):
            if (entry["method"], entry["path"], entry["query"]) == (
                got.method,
                got.path,
                got.query,
            ):
                del self.recorded[index]
                body = b"" if entry["response"] is None else json.dumps(entry["response"]).encode()
                media = "application/json" if body else None
                await Response(body, status_code=entry["status"], media_type=media)(
                    scope, receive, send
                )
                return
        self.unexpected.append(got)
        await Response(b'{"message": "unexpected"}', status_code=599)(scope, receive, send)


@asynccontextmanager
async def serve_http(app: Any) -> AsyncIterator[str]:
    """Run ``app`` under uvicorn on an ephemeral loopback port; yields ``http://127.0.0.1:N``."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class AriWebSocketScript:
    """A websockets server handler: connection ``n`` sends ``scripts[n]`` (raw text lines),
    then closes; connections beyond the script send nothing and stay open."""

    scripts: list[list[str]]
    paths: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)

    async def __call__(self, connection: Any) -> None:
        index = len(self.paths)
        self.paths.append(connection.request.path)
        self.auth.append(connection.request.headers.get("Authorization"))
        if index >= len(self.scripts):
            await connection.wait_closed()
            return
        for line in self.scripts[index]:
            await connection.send(line)
        await connection.close()
