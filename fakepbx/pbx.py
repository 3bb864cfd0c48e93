"""Starting and stopping the fake: the :class:`FakePbx` Python API and :func:`serve`."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn

from fakepbx.ami import AmiServer
from fakepbx.ari_app import build_app
from fakepbx.bus import EventBus
from fakepbx.clock import SimClock
from fakepbx.control import Controller, InjectedCall
from fakepbx.dialplan import okno_dialplan, recorded_dialplan
from fakepbx.engine import Engine
from fakepbx.supervisor import Supervisor

log = logging.getLogger("fakepbx")

DEFAULT_OPERATORS = tuple(f"op{n}" for n in range(1001, 1011))
DEFAULT_TRUNKS = ("provider", "neighbour-west", "neighbour-east")


@dataclass(frozen=True)
class PbxOptions:
    """``dialplan="recorded"`` reproduces the recordings' set-up (``Stasis(okno)``)."""

    app: str = "okno"
    username: str = "okno"
    password: str = "okno"
    speed: float = 1.0
    dialplan: str = "okno"
    operators: Iterable[str] = DEFAULT_OPERATORS
    trunks: Iterable[str] = DEFAULT_TRUNKS
    sound_seconds: dict[str, float] = field(default_factory=dict)
    default_sound_seconds: float = 3.0


def build_engine(options: PbxOptions) -> Engine:
    """An engine with the options' dialplan, operator seats (unregistered) and trunks."""
    dialplan = recorded_dialplan() if options.dialplan == "recorded" else okno_dialplan()
    engine = Engine(
        bus=EventBus(),
        clock=SimClock(options.speed),
        supervisor=Supervisor(),
        dialplan=dialplan,
        sound_seconds=dict(options.sound_seconds),
        default_sound_seconds=options.default_sound_seconds,
    )
    engine.stasis_app_name = options.app
    for resource in options.operators:
        engine.add_endpoint(resource)
    for resource in options.trunks:
        engine.add_endpoint(resource, trunk=True)
    return engine


class FakePbx:
    """A running fake: ``ari_url`` (``http://host:port``), ``ami_port``, and the control API."""

    def __init__(self, engine: Engine, options: PbxOptions, host: str) -> None:
        self.engine = engine
        self.options = options
        self.host = host
        self.control = Controller(engine)
        self.ari_port = 0
        self.ami_port = 0

    @property
    def ari_url(self) -> str:
        return f"http://{self.host}:{self.ari_port}"

    @property
    def events_url(self) -> str:
        credentials = f"{self.options.username}:{self.options.password}"
        return (
            f"ws://{self.host}:{self.ari_port}/ari/events?app={self.options.app}"
            f"&api_key={credentials}"
        )

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised inside the fake's own tasks (should stay empty)."""
        return self.engine.supervisor.errors

    @classmethod
    @asynccontextmanager
    async def start(
        cls,
        host: str = "127.0.0.1",
        ari_port: int = 0,
        ami_port: int = 0,
        options: PbxOptions | None = None,
    ) -> AsyncIterator[FakePbx]:
        options = options or PbxOptions()
        engine = build_engine(options)
        supervisor = engine.supervisor
        pbx = cls(engine, options, host)
        credentials = (options.username, options.password)
        app = build_app(engine, credentials, pbx.control)
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP,
        # and accepted sockets inherit it; without it every reply waits ~40 ms (delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, ari_port))
        pbx.ari_port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", ws="websockets-sansio", access_log=False
        )
        server = uvicorn.Server(config)
        ami = AmiServer(engine, credentials)
        pbx.ami_port = await ami.start(host, ami_port)
        serving = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if serving.done():
                    serving.result()
                await asyncio.sleep(0.01)
            yield pbx
        finally:
            server.should_exit = True
            await supervisor.close()
            await ami.close()
            await serving
            sock.close()

    # --- the Python control API --------------------------------------------------------------
    async def inject_call(
        self, did: str, caller: str, caller_name: str = "", context: str = "from-pstn"
    ) -> InjectedCall:
        """A citizen dials ``did``; with an app connected, ``channel_id`` enters Stasis with
        ``args == ["inbound", did]`` (``["overflow", did]`` for ``context="from-neighbour"``)."""
        return self.control.inject_call(
            did=did, caller=caller, caller_name=caller_name, context=context
        )

    async def press(self, handset_id: str, digits: str, duration_ms: int = 100) -> None:
        """Keys pressed on the handset; each arrives as ChannelDtmfReceived at key-up."""
        await self.control.press(handset_id, digits, duration_ms)

    async def hangup_handset(self, handset_id: str) -> None:
        """The citizen hangs up (the app sees cause 16 without ``soft``, then StasisEnd)."""
        self.control.hangup_handset(handset_id)

    def set_operator(
        self, resource: str, answers_after: float | None = 1.0, hangs_up_after: float | None = None
    ) -> None:
        """How the seat's phone behaves on the next calls: answer after N simulated seconds
        (``None``: never, the originate timeout ends it), hang up after M (``None``: never)."""
        self.control.set_operator(
            resource, answers_after=answers_after, hangs_up_after=hangs_up_after
        )

    def set_number(
        self,
        number: str,
        answers_after: float | None = 1.0,
        hangs_up_after: float | None = None,
        busy: bool = False,
    ) -> None:
        """How the phone of a number called out through a trunk (a citizen called back)
        behaves: answers after N simulated seconds (``None``: never, the originate timeout
        ends it with cause 19), hangs up M seconds after answering, or is ``busy`` (cause 17)."""
        self.control.set_number(
            number, answers_after=answers_after, hangs_up_after=hangs_up_after, busy=busy
        )

    def register(self, resource: str, contact_port: int = 5062) -> None:
        """The operator's softphone registers (its contact is ``127.0.0.1:contact_port``)."""
        self.control.register(resource, contact_port)

    def unregister(self, resource: str) -> None:
        """The softphone unregisters; calls to the seat then fail with 500."""
        self.control.unregister(resource)

    def operator_answer(self, resource: str) -> int:
        """A person at the seat picks up whatever rings there (human seats in the demo)."""
        return self.control.operator_answer(resource)

    def operator_hangup(self, resource: str) -> int:
        """The person at the seat puts the phone down."""
        return self.control.operator_hangup(resource)


async def serve(
    host: str = "127.0.0.1",
    ari_port: int = 8088,
    ami_port: int = 5038,
    *,
    options: PbxOptions | None = None,
    register_all: bool = True,
    ready: asyncio.Future[FakePbx] | None = None,
) -> None:
    """Run the fake until cancelled (``okno fakepbx``). Port 0 picks a free port; ``ready``
    receives the running fake (bound ports included) once it accepts connections."""
    async with FakePbx.start(host, ari_port, ami_port, options) as pbx:
        if register_all:
            for resource in pbx.options.operators:
                pbx.register(resource)
        log.info(
            "fakepbx ARI %s/ari, events %s, AMI %s:%s",
            pbx.ari_url,
            pbx.events_url.split("&api_key=")[0],
            pbx.host,
            pbx.ami_port,
        )
        if ready is not None:
            ready.set_result(pbx)
        await asyncio.Event().wait()
