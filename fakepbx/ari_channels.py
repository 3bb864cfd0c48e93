"""ARI ``/channels`` routes (channels.json), thin handlers over the engine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from fakepbx.ari_http import EngineDep, int_param, no_content, param, required
from fakepbx.errors import AriError

router = APIRouter(prefix="/ari/channels")

# DELETE /channels/{id}?reason=... -> the Q.850 cause the channel is destroyed with.
HANGUP_REASONS = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}


def _originate(engine: EngineDep, request: Request, channel_id: str | None) -> dict[str, Any]:
    priority = int_param(request, "priority", 1)
    return engine.originate(
        endpoint=required(request, "endpoint"),
        app=param(request, "app"),
        app_args=param(request, "appArgs", "") or "",
        context=param(request, "context"),
        exten=param(request, "extension"),
        priority=priority,
        caller_id=param(request, "callerId", "") or "",
        timeout=float(int_param(request, "timeout", 30)),
        channel_id=channel_id or param(request, "channelId"),
        other_channel_id=param(request, "otherChannelId"),
    )


@router.get("")
async def list_channels(engine: EngineDep) -> list[dict[str, Any]]:
    return [ch.to_ari() for ch in engine.channels.values()]


@router.post("")
async def originate(engine: EngineDep, request: Request) -> dict[str, Any]:
    return _originate(engine, request, None)


@router.post("/{channel_id}")
async def originate_with_id(channel_id: str, engine: EngineDep, request: Request) -> dict[str, Any]:
    return _originate(engine, request, channel_id)


@router.get("/{channel_id}")
async def get_channel(channel_id: str, engine: EngineDep) -> dict[str, Any]:
    return engine.channel(channel_id).to_ari()


@router.delete("/{channel_id}")
async def hangup(channel_id: str, engine: EngineDep, request: Request) -> Response:
    ch = engine.channel(channel_id)
    reason, code = param(request, "reason"), param(request, "reason_code")
    if reason and code:
        raise AriError(400, "The reason and reason_code can't both be specified")
    if code:
        cause = int(code) if code.isdigit() else -1
    else:
        cause = HANGUP_REASONS.get(reason or "normal", -1)
    if cause < 0:
        raise AriError(400, "Invalid reason for hangup provided")
    engine.app_hangup(ch, cause)
    return no_content()


@router.post("/{channel_id}/answer")
async def answer(channel_id: str, engine: EngineDep) -> Response:
    engine.answer(engine.stasis_channel(channel_id))
    return no_content()


@router.post("/{channel_id}/continue")
async def continue_in_dialplan(channel_id: str, engine: EngineDep, request: Request) -> Response:
    priority = param(request, "priority")
    engine.continue_in_dialplan(
        engine.stasis_channel(channel_id),
        param(request, "context"),
        param(request, "extension"),
        int(priority) if priority else None,
    )
    return no_content()


@router.post("/{channel_id}/dtmf")
async def send_dtmf(channel_id: str, engine: EngineDep, request: Request) -> Response:
    """DTMF *to* the far end of a Stasis channel; nothing comes back to the app."""
    engine.stasis_channel(channel_id)
    required(request, "dtmf")
    return no_content()


def _stasis_noop(channel_id: str, engine: EngineDep) -> Response:
    engine.stasis_channel(channel_id)
    return no_content()


for _path in ("ring", "moh", "hold", "silence", "mute"):
    for _method in ("POST", "DELETE"):
        router.add_api_route(
            f"/{{channel_id}}/{_path}",
            _stasis_noop,
            methods=[_method],
            operation_id=f"channel_{_path}_{_method.lower()}",
        )


def _play(
    engine: EngineDep, request: Request, channel_id: str, playback_id: str | None
) -> JSONResponse:
    engine.stasis_channel(channel_id)
    media = request.query_params.getlist("media")
    uris = [uri for item in media for uri in item.split(",")]
    playback = engine.play(
        f"channel:{channel_id}",
        uris,
        param(request, "lang", "en") or "en",
        playback_id or param(request, "playbackId"),
    )
    return JSONResponse(playback.to_ari(), status_code=201)


@router.post("/{channel_id}/play")
async def play(channel_id: str, engine: EngineDep, request: Request) -> JSONResponse:
    return _play(engine, request, channel_id, None)


@router.post("/{channel_id}/play/{playback_id}")
async def play_with_id(
    channel_id: str, playback_id: str, engine: EngineDep, request: Request
) -> JSONResponse:
    return _play(engine, request, channel_id, playback_id)


@router.post("/{channel_id}/record")
async def record(channel_id: str, engine: EngineDep, request: Request) -> JSONResponse:
    ch = engine.stasis_channel(channel_id)
    recording = engine.record(
        ch,
        name=required(request, "name"),
        fmt=required(request, "format"),
        max_duration=float(int_param(request, "maxDurationSeconds", 0)),
        terminate_on=param(request, "terminateOn", "none") or "none",
        if_exists=param(request, "ifExists", "fail") or "fail",
        beep=(param(request, "beep", "false") or "false").lower() == "true",
    )
    return JSONResponse(recording.to_ari(), status_code=201)


@router.get("/{channel_id}/variable")
async def get_variable(channel_id: str, engine: EngineDep, request: Request) -> dict[str, str]:
    ch = engine.channel(channel_id)
    name = required(request, "variable")
    if name not in ch.variables or name.startswith("__"):
        raise AriError(404, "Provided variable was not found")
    return {"value": ch.variables[name]}


@router.post("/{channel_id}/variable")
async def set_variable(channel_id: str, engine: EngineDep, request: Request) -> Response:
    ch = engine.channel(channel_id)
    name, value = required(request, "variable"), param(request, "value", "") or ""
    ch.variables[name] = value
    engine.notify.varset(ch, name, value)
    return no_content()
