"""A steady stream of simulated citizens and operator bots for the demo.

Callers arrive as a Poisson process on the centre's DIDs, listen to the greeting, press a
menu digit, and hang up when their patience runs out (if the centre has not ended the call
first). Bot operators register and answer after a short ring, talk for a while and hang up;
the seats in ``human_seats`` are registered but never answered by a bot, so a person can
take those calls from the web workspace. Works against a fake in this process or, through
the HTTP control API, against ``okno fakepbx`` running elsewhere.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from dataclasses import dataclass
from typing import Protocol

import httpx

from fakepbx.control import Controller


@dataclass(frozen=True)
class TrafficProfile:
    calls_per_minute: float = 6.0
    dids: tuple[str, ...] = ("88005550100", "88005550101")
    callback_did: str = "88005550199"
    callback_share: float = 0.1
    menu_digits: tuple[str, ...] = ("1", "2", "3", "0")
    mean_patience_seconds: float = 90.0
    bot_seats: tuple[str, ...] = tuple(f"op{n}" for n in range(1001, 1007))
    human_seats: tuple[str, ...] = ("op1007", "op1008")
    ring_seconds: tuple[float, float] = (1.0, 4.0)
    mean_talk_seconds: float = 40.0
    max_concurrent_calls: int = 60
    seed: int | None = None


class ControlPort(Protocol):
    async def inject_call(self, did: str, caller: str) -> str | None: ...
    async def press(self, handset_id: str, digits: str) -> None: ...
    async def hangup(self, handset_id: str) -> None: ...
    async def register(self, seat: str) -> None: ...
    async def set_operator(
        self, seat: str, answers_after: float | None, hangs_up_after: float | None
    ) -> None: ...


class InProcessControl:
    """Adapter over a fake running in this process (tests, single-process demo)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    async def inject_call(self, did: str, caller: str) -> str | None:
        return self.controller.inject_call(did=did, caller=caller).handset_id

    async def press(self, handset_id: str, digits: str) -> None:
        if handset_id in self.controller.engine.channels:
            await self.controller.press(handset_id, digits)

    async def hangup(self, handset_id: str) -> None:
        if handset_id in self.controller.engine.channels:
            self.controller.hangup_handset(handset_id)

    async def register(self, seat: str) -> None:
        self.controller.register(seat)

    async def set_operator(
        self, seat: str, answers_after: float | None, hangs_up_after: float | None
    ) -> None:
        self.controller.set_operator(
            seat, answers_after=answers_after, hangs_up_after=hangs_up_after
        )


class HttpControl:
    """Adapter over the ``/fakepbx`` control API of a separate ``okno fakepbx`` process."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def inject_call(self, did: str, caller: str) -> str | None:
        response = await self.client.post("/fakepbx/calls", json={"did": did, "caller": caller})
        response.raise_for_status()
        handset: str = response.json()["handset_id"]
        return handset

    async def press(self, handset_id: str, digits: str) -> None:
        await self.client.post(f"/fakepbx/calls/{handset_id}/dtmf", json={"digits": digits})

    async def hangup(self, handset_id: str) -> None:
        await self.client.delete(f"/fakepbx/calls/{handset_id}")  # 404: the call already ended

    async def register(self, seat: str) -> None:
        (await self.client.post(f"/fakepbx/operators/{seat}/registration")).raise_for_status()

    async def set_operator(
        self, seat: str, answers_after: float | None, hangs_up_after: float | None
    ) -> None:
        response = await self.client.put(
            f"/fakepbx/operators/{seat}",
            json={"answers_after": answers_after, "hangs_up_after": hangs_up_after},
        )
        response.raise_for_status()


class TrafficGenerator:
    def __init__(self, control: ControlPort, profile: TrafficProfile, speed: float = 1.0) -> None:
        self.control = control
        self.profile = profile
        self.speed = speed  # the fake's speed: real-time gaps shrink with it
        self.random = random.Random(profile.seed)
        self.started_calls = 0
        self._active = 0

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)

    async def prepare_seats(self) -> None:
        """Register every seat; bots get a behaviour, human seats ring until answered."""
        for seat in (*self.profile.bot_seats, *self.profile.human_seats):
            await self.control.register(seat)
        for seat in self.profile.human_seats:
            await self.control.set_operator(seat, None, None)
        await self.reshuffle_bots()

    async def reshuffle_bots(self) -> None:
        """New ring and talk times for each bot, so calls do not end in lockstep."""
        low, high = self.profile.ring_seconds
        for seat in self.profile.bot_seats:
            await self.control.set_operator(
                seat,
                self.random.uniform(low, high),
                self.random.expovariate(1 / self.profile.mean_talk_seconds) + 5.0,
            )

    def _caller_number(self) -> str:
        return "+7913" + "".join(str(self.random.randrange(10)) for _ in range(7))

    async def _one_caller(self) -> None:
        self._active += 1
        try:
            callback = self.random.random() < self.profile.callback_share
            did = self.profile.callback_did if callback else self.random.choice(self.profile.dids)
            handset = await self.control.inject_call(did, self._caller_number())
            if handset is None:
                return
            await self._sleep(self.random.uniform(2.0, 6.0))
            await self.control.press(handset, self.random.choice(self.profile.menu_digits))
            await self._sleep(self.random.expovariate(1 / self.profile.mean_patience_seconds))
            await self.control.hangup(handset)
        finally:
            self._active -= 1

    async def run(self, seconds: float | None = None) -> int:
        """Generate calls for ``seconds`` of simulated time (forever if None); returns the
        number of callers started. Callers still on the line are hung up at the end."""
        await self.prepare_seats()
        rate_per_second = self.profile.calls_per_minute / 60.0
        elapsed = 0.0
        async with asyncio.TaskGroup() as group:
            while seconds is None or elapsed < seconds:
                gap = self.random.expovariate(rate_per_second)
                elapsed += gap
                await self._sleep(gap)
                if self._active < self.profile.max_concurrent_calls:
                    self.started_calls += 1
                    group.create_task(self._one_caller())
                if self.started_calls % 20 == 0:
                    await self.reshuffle_bots()
        return self.started_calls


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulated callers and operator bots")
    parser.add_argument("--url", default="http://127.0.0.1:8088")
    parser.add_argument("--user", default="okno")
    parser.add_argument("--password", default="okno")
    parser.add_argument("--calls-per-minute", type=float, default=6.0)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args()

    async def run() -> None:
        async with httpx.AsyncClient(
            base_url=args.url, auth=(args.user, args.password), timeout=10
        ) as client:
            generator = TrafficGenerator(
                HttpControl(client), TrafficProfile(calls_per_minute=args.calls_per_minute)
            )
            await generator.run(args.seconds)

    asyncio.run(run())


if __name__ == "__main__":
    main()
