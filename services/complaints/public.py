"""The status a caller may ask for without an account: by registration number and the last
four digits of the phone given at registration.

Against enumeration: numbers are random nine-digit values; a wrong number and wrong digits get
the same answer; failures are counted in Redis per number (5 an hour: the four digits cannot
be tried through) and per client address (50 in ten minutes), and past either limit the
endpoint answers 429 until the window ends. Staff tokens (the voice menu calls with the
bridge's service account, for every caller from one address) skip the address counter only."""

from __future__ import annotations

import hmac

import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.problems import NotFound, TooManyAttempts
from services.complaints import repository
from services.complaints.policy import last_digits
from services.complaints.schemas import PublicEntry, PublicStatusIn, PublicStatusOut
from services.complaints.service import spoken_number

PER_NUMBER = (5, 3600)
PER_CLIENT = (50, 600)
#: Timeline events a caller is told about (staff-only entries such as redirects stay inside).
_PUBLIC_EVENTS = (
    "registered",
    "forwarded",
    "delivered",
    "acknowledged",
    "answered",
    "overdue",
    "closed",
)
_SPOKEN = {
    "registered": "зарегистрирована",
    "forwarded": "передана в ведомство",
    "delivered": "получена ведомством",
    "acknowledged": "принята ведомством к рассмотрению",
    "answered": "ведомство дало ответ",
    "closed": "рассмотрение завершено",
}


class StatusLimiter:
    """Failure counters in Redis, one key per number and per client address."""

    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis, self._prefix = redis, prefix

    def _limits(self, number: str, client: str | None) -> list[tuple[str, tuple[int, int]]]:
        """(key, (limit, window)) per counter; a trusted client has no address counter."""
        keys = [(f"{self._prefix}:complaints:status-failures:number:{number}", PER_NUMBER)]
        if client is not None:
            keys.append((f"{self._prefix}:complaints:status-failures:client:{client}", PER_CLIENT))
        return keys

    async def check(self, number: str, client: str | None) -> None:
        limits = self._limits(number, client)
        counts = await self._redis.mget([key for key, _ in limits])
        if any(
            int(count or 0) >= limit for count, (_, (limit, _w)) in zip(counts, limits, strict=True)
        ):
            raise TooManyAttempts("Too many failed status requests; try again later")

    async def failed(self, number: str, client: str | None) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            # A fixed window: the expiry is set by whichever failure opens it.
            for key, (_limit, window) in self._limits(number, client):
                pipe.set(key, 0, ex=window, nx=True)
                pipe.incr(key)
            await pipe.execute()


async def public_status(
    session: AsyncSession, data: PublicStatusIn, *, limiter: StatusLimiter, client: str | None
) -> PublicStatusOut:
    """The timeline of a complaint whose number and phone digits match; 404 otherwise.
    `client` is the caller's address, None for a trusted caller (the voice menu's account)."""
    await limiter.check(data.number, client)
    complaint = await repository.by_number(session, data.number)
    digits = last_digits(complaint.phone) if complaint is not None else "0000"
    if complaint is None or not hmac.compare_digest(digits, data.phone_last4):
        await limiter.failed(data.number, client)
        raise NotFound("No complaint with this number and phone")
    events = [
        PublicEntry(event=e.event, at=e.at)
        for e in await repository.timeline(session, complaint.id)
        if e.event in _PUBLIC_EVENTS
    ]
    overdue = complaint.ack_overdue or complaint.answer_overdue
    spoken = f"Жалоба номер {spoken_number(complaint.number)}: {_SPOKEN[complaint.status]}."
    if overdue and complaint.status != "closed":
        spoken += " Срок рассмотрения нарушен, центр контролирует ответ."
    return PublicStatusOut(
        number=complaint.number,
        status=complaint.status,
        overdue=overdue,
        timeline=events,
        spoken=spoken,
    )
