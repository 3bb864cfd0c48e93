"""The ARI REST client: contract against Asterisk's API description, behaviour against a real
HTTP server on loopback replaying the recorded REST exchanges of every flow."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from bridge_loopback import AriRestReplay, Received, serve_http
from bridge_traces import API_DOCS, FLOWS, rest_log

from ari_bridge.ari_client import ROUTES, AriClient
from ari_bridge.ari_errors import AriConflict, AriError, AriNotFound, AriUnavailable


def documented_operations() -> list[tuple[str, str, dict[str, dict[str, Any]]]]:
    """(HTTP method, path template, {parameter name: declaration}) for every ARI operation."""
    operations = []
    for doc in sorted(API_DOCS.glob("*.json")):
        for api in json.loads(doc.read_text())["apis"]:
            for op in api.get("operations", []):  # resources.json only lists the files
                params = {p["name"]: p for p in op.get("parameters", [])}
                operations.append((op["httpMethod"], api["path"], params))
    return operations


OPERATIONS = documented_operations()


def documented(method: str, path: str) -> dict[str, dict[str, Any]]:
    hits = [params for m, p, params in OPERATIONS if (m, p) == (method, path)]
    assert len(hits) == 1, f"{method} {path} is not in ari-api-docs"
    return hits[0]


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_route_is_documented_with_the_parameters_used(name: str) -> None:
    route = ROUTES[name]
    params = documented(route.method, route.path)
    by_type = {
        kind: {n for n, p in params.items() if p["paramType"] == kind}
        for kind in ("path", "query", "body")
    }
    assert set(re.findall(r"{(\w+)}", route.path)) == by_type["path"]
    assert route.query <= by_type["query"]
    assert route.body <= by_type["body"]
    required = {n for n, p in params.items() if p["paramType"] == "query" and p.get("required")}
    assert required <= route.query, "a required parameter cannot be sent"


def matches_documented_operation(request: Received) -> bool:
    path = request.path.removeprefix("/ari")
    for method, template, params in OPERATIONS:
        pattern = "^" + re.sub(r"{\w+}", "[^/]+", template) + "$"
        if method == request.method and re.match(pattern, path):
            declared = {n for n, p in params.items() if p["paramType"] == "query"}
            return request.query.keys() <= declared
    return False


Issue = tuple[Callable[[], Awaitable[Any]], Callable[[Any], Any]]
NOT_THE_BRIDGES_BUSINESS = {
    ("POST", "channels/*/dtmf"),
    ("GET", "playbacks/*"),
    ("GET", "recordings/live/*"),
    ("GET", "recordings/stored"),
    ("GET", "recordings/stored/*"),
    ("DELETE", "recordings/stored/*"),
    ("GET", "deviceStates"),
    ("GET", "endpoints/*"),
    ("GET", "endpoints/*/*"),
    ("GET", "bridges/*"),
}


def same(response: Any) -> Any:
    return response


def field_of(key: str) -> Callable[[Any], Any]:
    return lambda response: response[key]


def issue(client: AriClient, entry: dict[str, Any]) -> Issue | None:
    """The client call that makes the recorded request, and what it should return."""
    method, q = entry["method"], entry["query"]
    parts = entry["path"].removeprefix("/ari/").split("/")
    match method, parts:
        case "GET", ["channels"]:
            return client.list_channels, same
        case "GET", ["channels", cid]:
            return lambda: client.get_channel(cid), same
        case "POST", ["channels"]:
            return lambda: client.originate(
                q["endpoint"],
                to_app="app" in q,
                app_args=q.get("appArgs"),
                context=q.get("context"),
                extension=q.get("extension"),
                priority=int(q["priority"]) if "priority" in q else None,
                caller_id=q["callerId"],
                timeout_s=int(q["timeout"]),
            ), field_of("id")
        case "POST", ["channels", cid, "answer"]:
            return lambda: client.answer(cid), same
        case "DELETE", ["channels", cid]:
            return lambda: client.hangup(cid), same
        case "POST", ["channels", cid, "continue"]:
            return lambda: client.continue_in_dialplan(
                cid, context=q["context"], extension=q["extension"], priority=int(q["priority"])
            ), same
        case "POST", ["channels", cid, "play"]:
            return lambda: client.play(cid, q["media"]), field_of("id")
        case "DELETE", ["playbacks", pid]:
            return lambda: client.stop_playback(pid), same
        case "POST", ["channels", cid, "record"]:
            return lambda: client.record(
                cid,
                q["name"],
                file_format=q["format"],
                max_duration_s=int(q["maxDurationSeconds"]),
                beep=q["beep"] == "true",
                terminate_on=q["terminateOn"],
            ), field_of("name")
        case "GET", ["bridges"]:
            return client.list_bridges, same
        case "POST", ["bridges"]:
            return lambda: client.create_bridge(q["type"], name=q["name"]), field_of("id")
        case "DELETE", ["bridges", bid]:
            return lambda: client.destroy_bridge(bid), same
        case "POST", ["bridges", bid, "addChannel"]:
            return lambda: client.add_channels(bid, *q["channel"].split(",")), same
        case "POST", ["bridges", bid, "removeChannel"]:
            return lambda: client.remove_channels(bid, *q["channel"].split(",")), same
        case "POST", ["bridges", bid, "moh"]:
            return lambda: client.start_moh(bid, moh_class=q["mohClass"]), same
        case "DELETE", ["bridges", bid, "moh"]:
            return lambda: client.stop_moh(bid), same
        case "GET", ["applications", "okno"]:
            return client.get_application, same
        case "POST", ["applications", "okno", "subscription"]:
            return lambda: client.subscribe(*q["eventSource"].split(",")), same
        case "DELETE", ["applications", "okno", "subscription"]:
            return lambda: client.unsubscribe(*q["eventSource"].split(",")), same
        case "GET", ["endpoints"]:
            return client.list_endpoints, same
    shape = "/".join(
        [parts[0]]
        + [
            "*" if len(p) > 20 or "." in p or "-" in p or p.startswith(("op", "PJSIP")) else p
            for p in parts[1:]
        ]
    )
    assert (method, shape) in NOT_THE_BRIDGES_BUSINESS, f"no client call for {method} {shape}"
    return None


ERRORS = {404: AriNotFound, 409: AriConflict}


@pytest.mark.parametrize("flow", FLOWS)
async def test_client_reproduces_every_recorded_request_and_reads_every_answer(flow: str) -> None:
    log = rest_log(flow)
    server = AriRestReplay(recorded=list(log))
    made = 0
    async with (
        serve_http(server) as base,
        AriClient.open(f"{base}/ari", username="okno", password="okno", app="okno") as client,
    ):
        for entry in log:
            call = issue(client, entry)
            if call is None:
                continue
            made += 1
            run, expected = call
            if entry["status"] >= 400:
                with pytest.raises(ERRORS[entry["status"]]) as caught:
                    await run()
                assert caught.value.message == entry["response"]["message"]
            else:
                result = await run()
                assert result == (
                    None if entry["response"] is None else expected(entry["response"])
                )
    assert server.unexpected == []
    assert len(server.received) == made
    assert all(matches_documented_operation(request) for request in server.received)
    assert set(server.auth) == {"Basic b2tubzpva25v"}


async def test_originate_with_own_ids_and_sip_header_variables() -> None:
    leg = "okno-leg-1"
    query = {
        "endpoint": "PJSIP/op1001",
        "app": "okno",
        "appArgs": "agent,1001,call-7",
        "callerId": '"Очередь" <100>',
        "timeout": "20",
        "otherChannelId": "okno-leg-1b",
    }
    variables = {"PJSIP_HEADER(add,X-Okno-Topic)": "passport"}
    server = AriRestReplay(
        recorded=[
            {
                "method": "POST",
                "path": f"/ari/channels/{leg}",
                "query": query,
                "status": 200,
                "response": {"id": leg, "state": "Down"},
            }
        ]
    )
    async with (
        serve_http(server) as base,
        AriClient.open(f"{base}/ari", username="okno", password="okno", app="okno") as client,
    ):
        got = await client.originate(
            "PJSIP/op1001",
            channel_id=leg,
            other_channel_id="okno-leg-1b",
            app_args="agent,1001,call-7",
            caller_id='"Очередь" <100>',
            timeout_s=20,
            variables=variables,
        )
    assert got == leg
    assert server.unexpected == []
    assert server.received[0].body == {"variables": variables}
    assert matches_documented_operation(server.received[0])


async def test_unreachable_asterisk_is_a_typed_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AriClient.open(
        f"http://127.0.0.1:{port}/ari", username="u", password="p", app="okno", timeout_s=1.0
    ) as client:
        with pytest.raises(AriUnavailable) as caught:
            await client.answer("1.1")
    assert caught.value.error_id == "ari.unavailable"
    assert isinstance(caught.value, AriError)
