"""Bootstrap of `okno bridge`: build the links from settings and run the bridge service."""

from __future__ import annotations

import asyncio
import functools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ari_bridge.ami_adapter import AmiAdapter, AmiSettings
from ari_bridge.ari_client import AriClient
from ari_bridge.ari_events_ws import events_url
from ari_bridge.config import BridgeConfig
from ari_bridge.executor import Speaker
from ari_bridge.menus import MODES
from ari_bridge.service import BridgeService
from services.common.errors import StartupError
from services.common.metrics import start_metrics_server
from services.common.redis_client import check_redis, create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.common.yaml_config import load_yaml_model
from services.complaints.config import ComplaintSettings
from services.ivr.prompts import ToolsMissing, Voice, ensure_prompt
from services.ivr.schema import FlowError, FlowLibrary, load_library

_log = structlog.get_logger(__name__)
#: The bridge's /metrics port: `base_port + METRICS_PORT_OFFSET` unless given.
METRICS_PORT_OFFSET = 91


class LinkCollector(Collector):
    """Whether the bridge is connected to Asterisk right now, over ARI and over AMI."""

    def __init__(self, centre: str, service: BridgeService, ami: AmiAdapter) -> None:
        self.centre = centre
        self.service = service
        self.ami = ami

    def collect(self) -> Iterator[Metric]:
        links = GaugeMetricFamily(
            "okno_bridge_connected",
            "1 while the bridge is connected to Asterisk over the link (ari, ami).",
            labels=["centre", "link"],
        )
        links.add_metric([self.centre, "ari"], float(self.service.websocket.connected.is_set()))
        links.add_metric([self.centre, "ami"], float(self.ami.connected.is_set()))
        yield links


def load_bridge_config(settings: Settings) -> BridgeConfig:
    """The bridge's YAML configuration, or defaults for this centre (night in its zone, the
    knowledge and complaints services where `okno serve` runs them, voice messages copied into
    the complaints' recordings folder)."""
    return load_yaml_model(
        settings.bridge_config,
        BridgeConfig,
        centre=settings.centre_id,
        night={"timezone": settings.timezone},
        knowledge_url=f"http://{settings.host}:{settings.service_port('knowledge')}",
        complaints_url=f"http://{settings.host}:{settings.service_port('complaints')}",
        recordings_dir=ComplaintSettings().recordings_path(settings),
    )


def load_menus(config: BridgeConfig) -> FlowLibrary | None:
    """The voice menus, when they run; a flow that cannot run stops the bridge at start."""
    if not config.menus:
        return None
    try:
        return load_library(config.ivr_folder)
    except FlowError as exc:
        raise StartupError(f"voice menus in {config.ivr_folder}: {exc}") from exc


def runtime_speaker(config: BridgeConfig) -> Speaker | None:
    """Speaks texts known only during a call, if espeak-ng and sox are installed."""
    try:
        voice = Voice.find()
    except ToolsMissing as exc:
        _log.warning("runtime texts will be skipped", reason=str(exc))
        return None
    return functools.partial(_speak, out_dir=config.sounds_dir, voice=voice)


def _speak(text: str, *, out_dir: Path, voice: Voice) -> None:
    ensure_prompt(text, out_dir, voice)


def ws_base(ari_url: str) -> str:
    """`http://host:8088/ari` → `ws://host:8088/ari` (https → wss)."""
    scheme, _, rest = ari_url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


async def run_bridge(
    settings: Settings, redis_url: str, *, metrics_port: int | None = None
) -> None:
    """Run the bridge until cancelled; serve `/metrics` on `metrics_port` (default
    `base_port + 91`; 0 = not served)."""
    config = load_bridge_config(settings)
    flows = load_menus(config)
    speaker = runtime_speaker(config) if flows is not None else None
    client = create_redis(redis_url)
    password = settings.ari_password.get_secret_value()
    server: asyncio.Server | None = None
    try:
        await check_redis(client, redis_url)
        ami = AmiAdapter(
            AmiSettings(
                host=settings.ami_host,
                port=settings.ami_port,
                username=settings.ami_user,
                password=settings.ami_password.get_secret_value(),
            )
        )
        async with AriClient.open(
            settings.ari_url, username=settings.ari_user, password=password, app=config.app
        ) as ari:
            service = BridgeService(
                config=config,
                ari=ari,
                events_url=events_url(ws_base(settings.ari_url), config.app),
                ari_user=settings.ari_user,
                ari_password=password,
                streams=Streams(client, settings.stream_prefix()),
                consumer=f"{socket.gethostname()}-{os.getpid()}",
                ami=ami,
                flows=flows,
                modes_key=f"{settings.stream_prefix()}:{MODES}",
                speaker=speaker,
            )
            if metrics_port is None:
                metrics_port = settings.base_port + METRICS_PORT_OFFSET
            if metrics_port:
                registry = CollectorRegistry()
                registry.register(LinkCollector(config.centre, service, ami))

                async def render() -> bytes:
                    return generate_latest(registry)

                server = await start_metrics_server(settings.host, metrics_port, render)
            await service.run()
    finally:
        if server is not None:
            server.close()
        await client.aclose()
