"""Adapter to an office's own MFC queue/booking system (R8): pull slots, push bookings.

Its failures become errors with a message the operator can act on during the call; nothing
here retries on its own, because the caller is waiting on the line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from services.appointments.errors import (
    OutsideSystemError,
    OutsideSystemRefused,
    OutsideSystemTimeout,
)

TIMEOUT = httpx.Timeout(3.0, connect=1.0)

_TIMED_OUT = (
    "Система записи МФЦ не ответила вовремя. Запись не создана: попробуйте ещё раз через "
    "минуту или предложите другой офис."
)
_UNREACHABLE = (
    "Система записи МФЦ сейчас недоступна. Запись не создана: предложите другой офис "
    "или обратный звонок."
)


@dataclass(frozen=True, slots=True)
class OutsideSlot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    free: int


class MfcSystem(Protocol):
    """What Okno needs from an outside booking system."""

    async def slots(
        self, *, office: str, service: str, first_day: dt.date, days: int
    ) -> list[OutsideSlot]: ...

    async def book(
        self, *, office: str, service: str, starts_at: dt.datetime, reference: str
    ) -> str: ...

    async def cancel(self, *, external_id: str) -> None: ...


class HttpMfcSystem:
    """The JSON-over-HTTP protocol of the fake MFC system in `fake_mfc.py`."""

    def __init__(self, base_url: str, *, timeout: httpx.Timeout = TIMEOUT) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    async def slots(
        self, *, office: str, service: str, first_day: dt.date, days: int
    ) -> list[OutsideSlot]:
        body = await self._call(
            "GET",
            "/slots",
            params={
                "office": office,
                "service": service,
                "first_day": first_day.isoformat(),
                "days": days,
            },
        )
        return [
            OutsideSlot(
                dt.datetime.fromisoformat(item["starts_at"]),
                dt.datetime.fromisoformat(item["ends_at"]),
                int(item["free"]),
            )
            for item in body["slots"]
        ]

    async def book(
        self, *, office: str, service: str, starts_at: dt.datetime, reference: str
    ) -> str:
        body = await self._call(
            "POST",
            "/bookings",
            json={
                "office": office,
                "service": service,
                "starts_at": starts_at.isoformat(),
                "reference": reference,
            },
        )
        return str(body["id"])

    async def cancel(self, *, external_id: str) -> None:
        await self._call("DELETE", f"/bookings/{external_id}")

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with httpx.AsyncClient(base_url=self._base_url, timeout=self._timeout) as client:
                reply = await client.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise OutsideSystemTimeout(_TIMED_OUT) from exc
        except httpx.HTTPError as exc:
            raise OutsideSystemError(_UNREACHABLE) from exc
        if reply.status_code in (409, 422):
            reason = _reason(reply)
            raise OutsideSystemRefused(
                f"Система записи МФЦ отказала: {reason}. Предложите другое время или офис.",
                outside_reason=reason,
            )
        if reply.status_code == 204:
            return {}
        if reply.status_code >= 400:
            raise OutsideSystemError(_UNREACHABLE, outside_status=reply.status_code)
        try:
            body: dict[str, Any] = reply.json()
        except ValueError as exc:
            raise OutsideSystemError(_UNREACHABLE) from exc
        return body


def _reason(reply: httpx.Response) -> str:
    try:
        return str(reply.json().get("reason") or "причина не указана")
    except ValueError:
        return "причина не указана"


MfcFactory = Callable[[str], MfcSystem]


def http_mfc(base_url: str) -> MfcSystem:
    """The default factory: one HTTP adapter per office URL."""
    return HttpMfcSystem(base_url)
