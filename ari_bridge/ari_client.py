"""Typed async client for the ARI REST routes the bridge uses.

Every request goes through :data:`ROUTES`, one declarative entry per ARI operation (method, path
template as in Asterisk's API description, allowed query and body parameters). That table is
what the contract test checks against ``ari-api-docs/*.json`` without a server, and the client
refuses at call time any parameter the table does not declare.

Methods return ids (or nothing); list methods return the raw JSON objects, which only
:class:`ari_bridge.translate.Translator` interprets. Error statuses become :class:`AriError`
subclasses with a stable ``error_id``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import quote

import httpx

from ari_bridge.ari_errors import AriError, AriUnavailable, error_for_status

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One ARI operation: ``path`` uses the API description's ``{placeholders}``."""

    method: Literal["GET", "POST", "PUT", "DELETE"]
    path: str
    query: frozenset[str] = field(default_factory=frozenset)
    body: frozenset[str] = field(default_factory=frozenset)


def _route(
    method: Literal["GET", "POST", "PUT", "DELETE"],
    path: str,
    *query: str,
    body: tuple[str, ...] = (),
) -> Route:
    return Route(method, path, frozenset(query), frozenset(body))


_ORIGINATE = (
    "endpoint",
    "app",
    "appArgs",
    "callerId",
    "timeout",
    "context",
    "extension",
    "priority",
)
ROUTES: Final[Mapping[str, Route]] = {
    "list_channels": _route("GET", "/channels"),
    "get_channel": _route("GET", "/channels/{channelId}"),
    "originate": _route(
        "POST", "/channels", *_ORIGINATE, "channelId", "otherChannelId", body=("variables",)
    ),
    "originate_with_id": _route(
        "POST", "/channels/{channelId}", *_ORIGINATE, "otherChannelId", body=("variables",)
    ),
    "answer": _route("POST", "/channels/{channelId}/answer"),
    "hangup": _route("DELETE", "/channels/{channelId}", "reason"),
    "continue_in_dialplan": _route(
        "POST", "/channels/{channelId}/continue", "context", "extension", "priority"
    ),
    "play": _route("POST", "/channels/{channelId}/play", "media", "lang", "playbackId"),
    "stop_playback": _route("DELETE", "/playbacks/{playbackId}"),
    "record": _route(
        "POST",
        "/channels/{channelId}/record",
        "name",
        "format",
        "maxDurationSeconds",
        "maxSilenceSeconds",
        "ifExists",
        "beep",
        "terminateOn",
    ),
    "get_stored_recording_file": _route("GET", "/recordings/stored/{recordingName}/file"),
    "delete_stored_recording": _route("DELETE", "/recordings/stored/{recordingName}"),
    "set_channel_var": _route("POST", "/channels/{channelId}/variable", "variable", "value"),
    "list_bridges": _route("GET", "/bridges"),
    "create_bridge": _route("POST", "/bridges", "type", "name", "bridgeId"),
    "destroy_bridge": _route("DELETE", "/bridges/{bridgeId}"),
    "add_channel": _route("POST", "/bridges/{bridgeId}/addChannel", "channel"),
    "remove_channel": _route("POST", "/bridges/{bridgeId}/removeChannel", "channel"),
    "start_moh": _route("POST", "/bridges/{bridgeId}/moh", "mohClass"),
    "stop_moh": _route("DELETE", "/bridges/{bridgeId}/moh"),
    "get_application": _route("GET", "/applications/{applicationName}"),
    "subscribe": _route("POST", "/applications/{applicationName}/subscription", "eventSource"),
    "unsubscribe": _route("DELETE", "/applications/{applicationName}/subscription", "eventSource"),
    "list_endpoints": _route("GET", "/endpoints"),
}


def _flag(value: bool) -> str:
    return "true" if value else "false"


class AriClient:
    """ARI REST calls for one Stasis application over an ``httpx.AsyncClient`` the caller owns.

    ``http`` must have ``base_url`` ending in ``/ari`` and the ARI credentials set.
    """

    def __init__(self, http: httpx.AsyncClient, *, app: str) -> None:
        self._http = http
        self.app = app

    @classmethod
    @asynccontextmanager
    async def open(
        cls, base_url: str, *, username: str, password: str, app: str, timeout_s: float = 5.0
    ) -> AsyncIterator[AriClient]:
        """Client with its own connection pool, closed on exit."""
        auth = httpx.BasicAuth(username, password)
        async with httpx.AsyncClient(base_url=base_url, auth=auth, timeout=timeout_s) as http:
            yield cls(http, app=app)

    async def _call(
        self,
        name: str,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        response = await self._request(name, path, query, body)
        return response.json() if response.content else None

    async def _request(
        self,
        name: str,
        path: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        route = ROUTES[name]
        params = {k: v for k, v in (query or {}).items() if v is not None}
        if not params.keys() <= route.query or not (body or {}).keys() <= route.body:
            raise ValueError(f"{name}: parameters not declared for {route.path}")
        url = route.path.format_map({k: quote(v, safe="") for k, v in (path or {}).items()})
        try:
            response = await self._http.request(
                route.method, url, params=params, json=dict(body) if body else None
            )
        except httpx.TransportError as exc:
            raise AriUnavailable(route=name, status=0, message=str(exc)) from exc
        if response.status_code >= 400:
            raise error_for_status(name, response.status_code, _message(response))
        return response

    # --- channels -----------------------------------------------------------------------

    async def list_channels(self) -> list[JsonObject]:
        result: list[JsonObject] = await self._call("list_channels")
        return result

    async def get_channel(self, channel_id: str) -> JsonObject:
        result: JsonObject = await self._call("get_channel", {"channelId": channel_id})
        return result

    async def originate(
        self,
        endpoint: str,
        *,
        channel_id: str | None = None,
        other_channel_id: str | None = None,
        app_args: str | None = None,
        to_app: bool = True,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
        caller_id: str | None = None,
        timeout_s: int | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> str:
        """Dial ``endpoint``; into this app (``app_args``) or a dialplan location. Returns its id.

        Pass ``channel_id`` to know the leg's id before its first event can arrive.
        """
        query = {
            "app": self.app if to_app else None,
            "appArgs": app_args,
            "context": context,
            "extension": extension,
            "priority": None if priority is None else str(priority),
            "callerId": caller_id,
            "timeout": None if timeout_s is None else str(timeout_s),
            "otherChannelId": other_channel_id,
            "endpoint": endpoint,
        }
        body = {"variables": dict(variables)} if variables else None
        if channel_id is None:
            channel = await self._call("originate", query=query, body=body)
        else:
            channel = await self._call("originate_with_id", {"channelId": channel_id}, query, body)
        return str(channel["id"])

    async def answer(self, channel_id: str) -> None:
        await self._call("answer", {"channelId": channel_id})

    async def hangup(self, channel_id: str, *, reason: str | None = None) -> None:
        await self._call("hangup", {"channelId": channel_id}, {"reason": reason})

    async def continue_in_dialplan(
        self, channel_id: str, *, context: str, extension: str, priority: int = 1
    ) -> None:
        """Leave Stasis for the dialplan (blind transfer to an agency/MFC, overflow trunk)."""
        await self._call(
            "continue_in_dialplan",
            {"channelId": channel_id},
            {"context": context, "extension": extension, "priority": str(priority)},
        )

    async def set_channel_var(self, channel_id: str, variable: str, value: str) -> None:
        await self._call(
            "set_channel_var", {"channelId": channel_id}, {"variable": variable, "value": value}
        )

    # --- media --------------------------------------------------------------------------

    async def play(
        self,
        channel_id: str,
        media: str,
        *,
        playback_id: str | None = None,
        lang: str | None = None,
    ) -> str:
        """Play ``sound:``/``recording:`` media to a channel; returns the playback id."""
        playback = await self._call(
            "play",
            {"channelId": channel_id},
            {"media": media, "lang": lang, "playbackId": playback_id},
        )
        return str(playback["id"])

    async def stop_playback(self, playback_id: str) -> None:
        await self._call("stop_playback", {"playbackId": playback_id})

    async def record(
        self,
        channel_id: str,
        name: str,
        *,
        file_format: str = "wav",
        max_duration_s: int | None = None,
        max_silence_s: int | None = None,
        beep: bool = False,
        terminate_on: str | None = None,
        if_exists: Literal["fail", "overwrite", "append"] | None = None,
    ) -> str:
        """Start recording a channel; returns the recording's name."""
        recording = await self._call(
            "record",
            {"channelId": channel_id},
            {
                "name": name,
                "format": file_format,
                "maxDurationSeconds": None if max_duration_s is None else str(max_duration_s),
                "maxSilenceSeconds": None if max_silence_s is None else str(max_silence_s),
                "beep": _flag(beep),
                "terminateOn": terminate_on,
                "ifExists": if_exists,
            },
        )
        return str(recording["name"])

    async def recording_file(self, name: str) -> bytes:
        """The stored recording's audio file, as Asterisk wrote it (e.g. WAV)."""
        response = await self._request("get_stored_recording_file", {"recordingName": name})
        return response.content

    async def delete_recording(self, name: str) -> None:
        await self._call("delete_stored_recording", {"recordingName": name})

    # --- bridges ------------------------------------------------------------------------

    async def list_bridges(self) -> list[JsonObject]:
        result: list[JsonObject] = await self._call("list_bridges")
        return result

    async def create_bridge(
        self, kind: Literal["holding", "mixing"], *, name: str, bridge_id: str | None = None
    ) -> str:
        bridge = await self._call(
            "create_bridge", query={"type": kind, "name": name, "bridgeId": bridge_id}
        )
        return str(bridge["id"])

    async def destroy_bridge(self, bridge_id: str) -> None:
        await self._call("destroy_bridge", {"bridgeId": bridge_id})

    async def add_channels(self, bridge_id: str, *channel_ids: str) -> None:
        await self._call("add_channel", {"bridgeId": bridge_id}, {"channel": ",".join(channel_ids)})

    async def remove_channels(self, bridge_id: str, *channel_ids: str) -> None:
        await self._call(
            "remove_channel", {"bridgeId": bridge_id}, {"channel": ",".join(channel_ids)}
        )

    async def start_moh(self, bridge_id: str, *, moh_class: str | None = None) -> None:
        await self._call("start_moh", {"bridgeId": bridge_id}, {"mohClass": moh_class})

    async def stop_moh(self, bridge_id: str) -> None:
        """Stop MOH; 409 (:class:`AriConflict`) when it already stopped with the last caller."""
        await self._call("stop_moh", {"bridgeId": bridge_id})

    # --- application and operators' endpoints -------------------------------------------

    async def get_application(self) -> JsonObject:
        result: JsonObject = await self._call("get_application", {"applicationName": self.app})
        return result

    async def subscribe(self, *event_sources: str) -> JsonObject:
        """Subscribe to e.g. ``endpoint:PJSIP/op1001`` and ``deviceState:PJSIP/op1001``."""
        result: JsonObject = await self._call(
            "subscribe", {"applicationName": self.app}, {"eventSource": ",".join(event_sources)}
        )
        return result

    async def unsubscribe(self, *event_sources: str) -> JsonObject:
        result: JsonObject = await self._call(
            "unsubscribe", {"applicationName": self.app}, {"eventSource": ",".join(event_sources)}
        )
        return result

    async def list_endpoints(self) -> list[JsonObject]:
        result: list[JsonObject] = await self._call("list_endpoints")
        return result


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text
    return str(body.get("message", "")) if isinstance(body, dict) else str(body)


__all__ = ["ROUTES", "AriClient", "AriError", "JsonObject", "Route"]
