"""Small HTTP helpers shared by the appointments tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.appointments.conftest import bearer


async def free_slots(
    http: httpx.AsyncClient,
    base: str,
    token: str,
    office: str,
    service: str = "snils",
    **params: Any,
) -> list[dict[str, Any]]:
    reply = await http.get(
        f"{base}/appointments/slots",
        params={"office": office, "service": service, "days": 7, **params},
        headers=bearer(token),
    )
    assert reply.status_code == 200, reply.text
    slots: list[dict[str, Any]] = reply.json()
    return slots


def booking_body(
    office: str, starts_at: str, service: str = "snils", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"office": office, "service": service, "starts_at": starts_at}
    body.update(changes)
    return body


async def book(
    http: httpx.AsyncClient, base: str, token: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await http.post(
        f"{base}/appointments/bookings", json=body, headers={**bearer(token), **headers}
    )
