"""The ARI events WebSocket: ``/ari/events?app=okno&api_key=user:pass``.

Each connection gets its own queue; the app stays registered when the socket closes, and a
new socket receives only events that happen after it connects (no replay).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response, WebSocket, WebSocketDisconnect

from fakepbx.ari_http import credentials_ok, request_credentials
from fakepbx.engine import Engine

router = APIRouter()


@router.websocket("/ari/events")
async def events(websocket: WebSocket) -> None:
    engine: Engine = websocket.app.state.engine
    given = request_credentials(
        websocket.query_params.get("api_key"), websocket.headers.get("authorization")
    )
    names = [n for item in websocket.query_params.getlist("app") for n in item.split(",") if n]
    if not credentials_ok(given, websocket.app.state.credentials):
        await websocket.send_denial_response(Response(status_code=401))
        return
    if not names:
        await websocket.send_denial_response(Response(status_code=400))
        return
    await websocket.accept()
    queue: asyncio.Queue[str] = asyncio.Queue()
    apps = [engine.bus.app(name) for name in names]
    for app in apps:
        app.sockets.append(queue)
    try:
        async with asyncio.TaskGroup() as group:
            sender = group.create_task(_send_all(websocket, queue))
            await _wait_for_close(websocket)
            sender.cancel()
    finally:
        for app in apps:
            app.sockets.remove(queue)


async def _send_all(websocket: WebSocket, queue: asyncio.Queue[str]) -> None:
    while True:
        await websocket.send_text(await queue.get())


async def _wait_for_close(websocket: WebSocket) -> None:
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        return
