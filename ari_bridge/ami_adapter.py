"""The AMI link: panoramisk's protocol and action matching, under our own task ownership.

panoramisk's ``Manager`` starts callbacks with ``ensure_future`` and never looks at them,
reconnects from ``call_later`` timers and pings without waiting for the answer. Here one
:meth:`AmiAdapter.run` task owns everything: it connects, logs in, takes a snapshot of device
states (AMI replays nothing after a reconnect; the list arrives on :attr:`events` like any
other event), then keeps the link alive with ``Ping`` in a
TaskGroup; any failure closes the link and reconnects with capped exponential backoff. Events
reach the owner through :attr:`AmiAdapter.events`, an asyncio queue of plain header mappings
for :meth:`ari_bridge.translate.Translator.feed_ami`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from panoramisk import Manager
from panoramisk.message import Message

from ari_bridge.backoff import Backoff

log = logging.getLogger(__name__)

AmiEvent = dict[str, str]


@dataclass(frozen=True)
class AmiSettings:
    host: str
    port: int
    username: str
    password: str
    ping_interval_s: float = 10.0
    ping_timeout_s: float = 5.0
    action_timeout_s: float = 5.0


class AmiUnavailable(Exception):
    """The AMI link is down, or an action got no answer in time."""


class AmiLoginFailed(Exception):
    """Asterisk refused the AMI credentials."""


class _LinkLost(Exception):
    pass


def _plain(message: Message) -> AmiEvent:
    """Headers as ``str -> str`` (repeated headers joined with commas)."""
    return {
        str(key): value if isinstance(value, str) else ",".join(value)
        for key, value in message.items()
        if key != "content"
    }


class _OwnedManager(Manager):  # type: ignore[misc]  # panoramisk is untyped
    """panoramisk's Manager with its timers, reconnects and callback tasks taken out.

    ``dispatch`` hands events to a plain function instead of starting callbacks;
    ``connection_lost`` resolves :attr:`lost` instead of scheduling a reconnect.
    """

    def __init__(self, settings: AmiSettings, on_event: Callable[[AmiEvent], None]) -> None:
        super().__init__(
            host=settings.host,
            port=settings.port,
            username=settings.username,
            secret=settings.password,
        )
        self._on_event = on_event
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def open(self) -> None:
        """Connect and wire the protocol as ``Manager.connection_made`` does, minus its login
        callback and ping timer."""
        self.loop = asyncio.get_running_loop()
        _, protocol = await self.loop.create_connection(
            self.config["protocol_factory"], self.config["host"], self.config["port"]
        )
        self.protocol = protocol
        protocol.queue = deque()
        protocol.factory = self
        protocol.log = self.log
        protocol.config = self.config
        protocol.encoding = self.encoding = self.config["encoding"]
        self.responses = protocol.responses = {}

    def dispatch(self, event: Message) -> list[str]:
        self._on_event(_plain(event))
        return []

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.lost.done():
            self.lost.set_result(None)


class AmiAdapter:
    """One supervised AMI connection; run :meth:`run` as a task and read :attr:`events`."""

    def __init__(self, settings: AmiSettings, *, backoff: Backoff | None = None) -> None:
        self._settings = settings
        self._backoff = backoff or Backoff()
        self._manager: _OwnedManager | None = None
        self.events: asyncio.Queue[AmiEvent] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.logins = 0

    async def run(self) -> None:
        """Keep the link up forever; cancel the task to stop."""
        failures = 0
        while True:
            try:
                await self._session()
            except* (OSError, TimeoutError, AmiUnavailable, AmiLoginFailed, _LinkLost) as group:
                log.warning("ami link lost: %s", group.exceptions[0])
            if self.connected.is_set():
                failures = 0
            self.connected.clear()
            failures += 1
            await asyncio.sleep(self._backoff.delay(failures))

    async def send_action(self, action: Mapping[str, str]) -> list[AmiEvent]:
        """Send an action; returns its response and, for lists, the listed events."""
        manager = self._manager
        if manager is None or not self.connected.is_set():
            raise AmiUnavailable("AMI is not connected")
        return await self._ask(manager, action)

    async def _ask(
        self, manager: _OwnedManager, action: Mapping[str, str], as_list: bool | None = None
    ) -> list[AmiEvent]:
        future = manager.send_action(dict(action), as_list=as_list)
        done, _ = await asyncio.wait(
            {future, manager.lost},
            timeout=self._settings.action_timeout_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if future not in done:
            raise AmiUnavailable(f"no answer to {action.get('Action')}")
        answer = future.result()
        messages = answer if isinstance(answer, list) else [answer]
        return [_plain(message) for message in messages]

    async def _session(self) -> None:
        manager = _OwnedManager(self._settings, self.events.put_nowait)
        try:
            async with asyncio.timeout(self._settings.action_timeout_s):
                await manager.open()
            login = await self._ask(
                manager,
                {
                    "Action": "Login",
                    "Username": self._settings.username,
                    "Secret": self._settings.password,
                    "Events": "on",
                },
            )
            if login[0].get("Response") != "Success":
                raise AmiLoginFailed(login[0].get("Message", ""))
            self.logins += 1
            # as_list=False: the action completes on its "Success" and the listed
            # DeviceStateChange events then flow through dispatch, in wire order with the
            # live events that follow them.
            await self._ask(manager, {"Action": "DeviceStateList"}, as_list=False)
            self._manager = manager
            self.connected.set()
            log.info("ami logged in", extra={"logins": self.logins})
            await self._watch(manager)
        finally:
            self._manager = None
            manager.close()

    async def _watch(self, manager: _OwnedManager) -> None:
        """Ping every interval until Asterisk closes the link or stops answering.

        One coroutine rather than a TaskGroup of two: on Python 3.11 a TaskGroup whose child
        fails while the bridge is being stopped raises the child's error and drops the stop,
        and the adapter would reconnect for ever."""
        settings = self._settings
        while True:
            await asyncio.wait({manager.lost}, timeout=settings.ping_interval_s)
            if manager.lost.done():
                raise _LinkLost("connection closed by Asterisk")
            ping = manager.send_action({"Action": "Ping"})
            await asyncio.wait(
                {ping, manager.lost},
                timeout=settings.ping_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if manager.lost.done():
                raise _LinkLost("connection closed by Asterisk")
            if not ping.done():
                raise _LinkLost("ping unanswered")
