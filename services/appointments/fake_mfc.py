"""A fake outside MFC queue/booking system, served over HTTP on loopback for tests and the demo.

It keeps bookings in memory on a fixed weekday grid and can be told, through POST /control,
to refuse every booking with a reason, to answer with a server error, or to answer late.

    python -m services.appointments.fake_mfc --port 8190
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field


class Control(BaseModel):
    """How the fake misbehaves from now on; every field resets to normal when omitted."""

    delay_seconds: float = Field(default=0.0, ge=0, le=30)
    refuse: str | None = Field(default=None, description="Refuse every booking with this reason")
    fail_status: int | None = Field(default=None, ge=500, le=599)


class BookingRequest(BaseModel):
    office: str
    service: str
    starts_at: AwareDatetime
    reference: str


@dataclass
class _State:
    control: Control = field(default_factory=Control)
    bookings: dict[str, BookingRequest] = field(default_factory=dict)


def create_fake_mfc(
    *,
    timezone: str = "Asia/Novokuznetsk",
    capacity: int = 2,
    slot_minutes: int = 30,
    opens: dt.time = dt.time(9),
    closes: dt.time = dt.time(17),
) -> FastAPI:
    """The fake's app; each app has its own in-memory state."""
    tz = ZoneInfo(timezone)
    state = _State()
    app = FastAPI(title="Fake MFC booking system")
    step = dt.timedelta(minutes=slot_minutes)

    def taken(starts_at: dt.datetime) -> int:
        return sum(1 for b in state.bookings.values() if b.starts_at == starts_at)

    async def misbehave() -> JSONResponse | None:
        if state.control.delay_seconds:
            await asyncio.sleep(state.control.delay_seconds)
        if state.control.fail_status:
            return JSONResponse({"error": "internal"}, status_code=state.control.fail_status)
        return None

    @app.post("/control")
    async def control(body: Control) -> dict[str, Any]:
        state.control = body
        return body.model_dump()

    @app.get("/slots", response_model=None)
    async def slots(
        office: str,
        service: str,
        first_day: dt.date,
        days: Annotated[int, Query(ge=1, le=60)] = 7,
    ) -> Any:
        failure = await misbehave()
        if failure is not None:
            return failure
        items = []
        for offset in range(days):
            day = first_day + dt.timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            start = dt.datetime.combine(day, opens, tzinfo=tz)
            end = dt.datetime.combine(day, closes, tzinfo=tz)
            while start + step <= end:
                items.append(
                    {
                        "starts_at": start.isoformat(),
                        "ends_at": (start + step).isoformat(),
                        "free": capacity - taken(start),
                    }
                )
                start += step
        return {"office": office, "service": service, "slots": items}

    @app.post("/bookings", status_code=201, response_model=None)
    async def book(body: BookingRequest) -> Any:
        failure = await misbehave()
        if failure is not None:
            return failure
        if state.control.refuse:
            return JSONResponse({"reason": state.control.refuse}, status_code=409)
        if taken(body.starts_at) >= capacity:
            return JSONResponse({"reason": "время уже занято"}, status_code=409)
        booking_id = secrets.token_hex(6)
        state.bookings[booking_id] = body
        return {"id": booking_id}

    @app.get("/bookings")
    async def bookings() -> dict[str, Any]:
        return {key: value.model_dump(mode="json") for key, value in state.bookings.items()}

    @app.delete("/bookings/{booking_id}", status_code=204, response_model=None)
    async def cancel(booking_id: str) -> Any:
        failure = await misbehave()
        if failure is not None:
            return failure
        if state.bookings.pop(booking_id, None) is None:
            return JSONResponse({"reason": "запись не найдена"}, status_code=422)
        return None

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--capacity", type=int, default=2)
    args = parser.parse_args()
    uvicorn.run(create_fake_mfc(capacity=args.capacity), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
