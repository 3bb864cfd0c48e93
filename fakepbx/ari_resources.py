"""ARI routes other than channels: bridges, playbacks, recordings, endpoints, device states,
applications and asterisk (the files of the same names in ari-api-docs)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fakepbx.ari_http import EngineDep, no_content, param, required
from fakepbx.bus import ASTERISK_ID
from fakepbx.clock import ari_timestamp
from fakepbx.errors import AriError

router = APIRouter(prefix="/ari")


# --- bridges ------------------------------------------------------------------------------
def _create_bridge(engine: EngineDep, request: Request, bridge_id: str | None) -> dict[str, Any]:
    bridge = engine.create_bridge(
        bridge_type=param(request, "type", "mixing") or "mixing",
        name=param(request, "name", "") or "",
        bridge_id=bridge_id or param(request, "bridgeId"),
    )
    return bridge.to_ari()


@router.get("/bridges")
async def list_bridges(engine: EngineDep) -> list[dict[str, Any]]:
    return [bridge.to_ari() for bridge in engine.bridges.values()]


@router.post("/bridges")
async def create_bridge(engine: EngineDep, request: Request) -> dict[str, Any]:
    return _create_bridge(engine, request, None)


@router.post("/bridges/{bridge_id}")
async def create_bridge_with_id(
    bridge_id: str, engine: EngineDep, request: Request
) -> dict[str, Any]:
    return _create_bridge(engine, request, bridge_id)


@router.get("/bridges/{bridge_id}")
async def get_bridge(bridge_id: str, engine: EngineDep) -> dict[str, Any]:
    return engine.bridge(bridge_id).to_ari()


@router.delete("/bridges/{bridge_id}")
async def destroy_bridge(bridge_id: str, engine: EngineDep) -> Response:
    engine.destroy_bridge(engine.bridge(bridge_id))
    return no_content()


@router.post("/bridges/{bridge_id}/addChannel")
async def add_channel(bridge_id: str, engine: EngineDep, request: Request) -> Response:
    bridge = engine.bridge(bridge_id)
    ids = [c for c in (param(request, "channel", "") or "").split(",") if c]
    engine.add_channels(bridge, ids)
    return no_content()


@router.post("/bridges/{bridge_id}/removeChannel")
async def remove_channel(bridge_id: str, engine: EngineDep, request: Request) -> Response:
    bridge = engine.bridge(bridge_id)
    for channel_id in required(request, "channel").split(","):
        engine.remove_channel(bridge, channel_id)
    return no_content()


@router.post("/bridges/{bridge_id}/moh")
async def start_moh(bridge_id: str, engine: EngineDep, request: Request) -> Response:
    engine.start_moh(engine.bridge(bridge_id), param(request, "mohClass", "default") or "")
    return no_content()


@router.delete("/bridges/{bridge_id}/moh")
async def stop_moh(bridge_id: str, engine: EngineDep) -> Response:
    engine.stop_moh(engine.bridge(bridge_id))
    return no_content()


@router.post("/bridges/{bridge_id}/play")
async def play_on_bridge(bridge_id: str, engine: EngineDep, request: Request) -> JSONResponse:
    engine.bridge(bridge_id)
    uris = [u for item in request.query_params.getlist("media") for u in item.split(",")]
    playback = engine.play(
        f"bridge:{bridge_id}",
        uris,
        param(request, "lang", "en") or "en",
        param(request, "playbackId"),
    )
    return JSONResponse(playback.to_ari(), status_code=201)


# --- playbacks and recordings ---------------------------------------------------------------
@router.get("/playbacks/{playback_id}")
async def get_playback(playback_id: str, engine: EngineDep) -> dict[str, Any]:
    return engine.playback(playback_id).to_ari()


@router.delete("/playbacks/{playback_id}")
async def stop_playback(playback_id: str, engine: EngineDep) -> Response:
    engine.stop_playback(playback_id)
    return no_content()


@router.get("/recordings/stored")
async def list_stored(engine: EngineDep) -> list[dict[str, str]]:
    return [{"name": n, "format": f} for n, f in engine.stored_recordings.items()]


def _stored(engine: EngineDep, name: str) -> dict[str, str]:
    if name not in engine.stored_recordings:
        raise AriError(404, "Recording not found")
    return {"name": name, "format": engine.stored_recordings[name]}


@router.get("/recordings/stored/{name}")
async def get_stored(name: str, engine: EngineDep) -> dict[str, str]:
    return _stored(engine, name)


@router.get("/recordings/stored/{name}/file")
async def get_stored_file(name: str, engine: EngineDep) -> Response:
    return Response(engine.recording_file(name), media_type="audio/wav")


@router.delete("/recordings/stored/{name}")
async def delete_stored(name: str, engine: EngineDep) -> Response:
    _stored(engine, name)
    del engine.stored_recordings[name]
    engine.recording_seconds.pop(name, None)
    return no_content()


@router.get("/recordings/live/{name}")
async def get_live(name: str, engine: EngineDep) -> dict[str, Any]:
    return engine.live_recording(name).to_ari()


@router.post("/recordings/live/{name}/stop")
async def stop_live(name: str, engine: EngineDep) -> Response:
    engine.finish_recording(engine.live_recording(name), keep=True)
    return no_content()


@router.delete("/recordings/live/{name}")
async def cancel_live(name: str, engine: EngineDep) -> Response:
    engine.finish_recording(engine.live_recording(name), keep=False)
    return no_content()


# --- endpoints, device states -----------------------------------------------------------------
@router.get("/endpoints")
async def list_endpoints(engine: EngineDep) -> list[dict[str, Any]]:
    return [e.to_ari() for e in engine.endpoints.values()]


@router.get("/endpoints/{tech}")
async def list_tech_endpoints(tech: str, engine: EngineDep) -> list[dict[str, Any]]:
    if tech.upper() != "PJSIP":
        raise AriError(404, "No Endpoints found - invalid tech " + tech)
    return [e.to_ari() for e in engine.endpoints.values()]


@router.get("/endpoints/{tech}/{resource}")
async def get_endpoint(tech: str, resource: str, engine: EngineDep) -> dict[str, Any]:
    if tech.upper() != "PJSIP":
        raise AriError(404, "Endpoint not found")
    return engine.endpoint(resource).to_ari()


@router.get("/deviceStates")
async def list_device_states() -> list[dict[str, str]]:
    """Only ARI-owned ``Stasis:`` devices are listed, and the fake owns none (MANIFEST.md)."""
    return []


# --- applications ---------------------------------------------------------------------------------
@router.get("/applications")
async def list_applications(engine: EngineDep) -> list[dict[str, Any]]:
    return [app.to_ari() for app in engine.bus.apps.values()]


@router.get("/applications/{name}")
async def get_application(name: str, engine: EngineDep) -> dict[str, Any]:
    if name not in engine.bus.apps:
        raise AriError(404, "Application not found")
    return engine.bus.apps[name].to_ari()


def _event_sources(engine: EngineDep, request: Request) -> list[tuple[str, str]]:
    sources = []
    for item in request.query_params.getlist("eventSource"):
        for source in item.split(","):
            kind, _, name = source.partition(":")
            known = {
                "channel": name in engine.channels,
                "bridge": name in engine.bridges,
                "endpoint": name.partition("/")[2] in engine.endpoints,
                "deviceState": True,
            }
            if not known.get(kind, False):
                raise AriError(422, "Event source does not exist")
            sources.append((kind, name))
    if not sources:
        raise AriError(400, "Missing parameter eventSource")
    return sources


@router.post("/applications/{name}/subscription")
async def subscribe(name: str, engine: EngineDep, request: Request) -> dict[str, Any]:
    if name not in engine.bus.apps:
        raise AriError(404, "Application not found")
    app = engine.bus.apps[name]
    for kind, source in _event_sources(engine, request):
        {
            "channel": app.channel_ids,
            "bridge": app.bridge_ids,
            "endpoint": app.endpoint_ids,
            "deviceState": app.device_names,
        }[kind][source] = None
    return app.to_ari()


@router.delete("/applications/{name}/subscription")
async def unsubscribe(name: str, engine: EngineDep, request: Request) -> dict[str, Any]:
    if name not in engine.bus.apps:
        raise AriError(404, "Application not found")
    app = engine.bus.apps[name]
    for kind, source in _event_sources(engine, request):
        {
            "channel": app.channel_ids,
            "bridge": app.bridge_ids,
            "endpoint": app.endpoint_ids,
            "deviceState": app.device_names,
        }[kind].pop(source, None)
    return app.to_ari()


# --- asterisk ------------------------------------------------------------------------------------
@router.get("/asterisk/ping")
async def ping() -> dict[str, str]:
    return {"asterisk_id": ASTERISK_ID, "ping": "pong", "timestamp": ari_timestamp(time.time())}
