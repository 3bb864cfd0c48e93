"""Supervisors switch night and emergency modes: stored for new calls, told to the router,
audited, and refused to the wrong roles."""

from __future__ import annotations

import httpx
import pytest

from services.auth.models import Role
from services.common.redis_client import create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.router.wire import EVENTS, event_from_fields
from services.supervision.service import modes_key
from tests.conftest import ServiceStarter, TokenFactory

pytestmark = pytest.mark.integration


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def router_events(settings: Settings) -> list[object]:
    client = create_redis(settings.redis_url or "")
    try:
        streams = Streams(client, settings.stream_prefix())
        entries = await client.xrange(streams.key(EVENTS))
        return [event_from_fields(fields) for _id, fields in entries]
    finally:
        await client.aclose()


async def test_emergency_mode_is_stored_announced_to_the_router_and_audited(
    http: httpx.AsyncClient,
    service_url: ServiceStarter,
    token_for: TokenFactory,
    settings: Settings,
) -> None:
    base = await service_url("supervision")
    supervisor = bearer(await token_for(Role.SUPERVISOR))
    text = "Внимание! В связи с аварией на сетях приём в МФЦ Кемерово сегодня не ведётся."
    reply = await http.put(
        f"{base}/supervision/modes",
        json={"emergency": True, "announcement": text},
        headers=supervisor,
    )
    assert reply.status_code == 200, reply.text
    assert reply.json()["emergency"] is True and reply.json()["announcement"] == text

    client = create_redis(settings.redis_url or "")
    stored = await client.hgetall(modes_key(settings.stream_prefix()))
    await client.aclose()
    assert stored["emergency"] == "1" and stored["announcement"] == text

    events = await router_events(settings)
    assert any(
        type(e).__name__ == "EmergencyMode" and e.active and e.announcement == text  # type: ignore[attr-defined]
        for e in events
    )
    operator = bearer(await token_for(Role.OPERATOR))
    seen = await http.get(f"{base}/supervision/modes", headers=operator)
    assert seen.json()["emergency"] is True

    off = await http.put(f"{base}/supervision/modes", json={"emergency": False}, headers=supervisor)
    assert off.json()["emergency"] is False and off.json()["announcement"] is None

    admin = bearer(await token_for(Role.ADMINISTRATOR))
    auth_base = await service_url("auth")
    audit = await http.get(
        f"{auth_base}/auth/audit", params={"action": "supervision.modes"}, headers=admin
    )
    assert audit.json()["total"] >= 2


async def test_night_override_reaches_the_router(
    http: httpx.AsyncClient,
    service_url: ServiceStarter,
    token_for: TokenFactory,
    settings: Settings,
) -> None:
    base = await service_url("supervision")
    supervisor = bearer(await token_for(Role.SUPERVISOR))
    reply = await http.put(
        f"{base}/supervision/modes", json={"night_override": "night"}, headers=supervisor
    )
    assert reply.json()["night_override"] == "night"
    events = await router_events(settings)
    assert any(
        type(e).__name__ == "NightModeOverride" and e.mode == "night"  # type: ignore[attr-defined]
        for e in events
    )
    await http.put(f"{base}/supervision/modes", json={"night_override": "auto"}, headers=supervisor)


async def test_emergency_needs_its_announcement(
    http: httpx.AsyncClient, service_url: ServiceStarter, token_for: TokenFactory
) -> None:
    base = await service_url("supervision")
    supervisor = bearer(await token_for(Role.SUPERVISOR))
    reply = await http.put(
        f"{base}/supervision/modes", json={"emergency": True}, headers=supervisor
    )
    assert reply.status_code == 422
    assert "announcement" in reply.json()["errors"][0]["message"]


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.AGENCY])
async def test_only_supervisors_and_administrators_switch_modes(
    http: httpx.AsyncClient, service_url: ServiceStarter, token_for: TokenFactory, role: Role
) -> None:
    base = await service_url("supervision")
    reply = await http.put(
        f"{base}/supervision/modes",
        json={"night_override": "day"},
        headers=bearer(await token_for(role)),
    )
    assert reply.status_code == 403


async def test_reading_modes_needs_a_login(
    http: httpx.AsyncClient, service_url: ServiceStarter
) -> None:
    base = await service_url("supervision")
    assert (await http.get(f"{base}/supervision/modes")).status_code == 401
