"""Bootstrap of `okno bridge`: build the links from settings and run the bridge service."""

from __future__ import annotations

import os
import socket

from ari_bridge.ami_adapter import AmiAdapter, AmiSettings
from ari_bridge.ari_client import AriClient
from ari_bridge.ari_events_ws import events_url
from ari_bridge.config import BridgeConfig
from ari_bridge.service import BridgeService
from services.common.redis_client import check_redis, create_redis
from services.common.settings import Settings
from services.common.streams import Streams
from services.common.yaml_config import load_yaml_model


def load_bridge_config(settings: Settings) -> BridgeConfig:
    """The bridge's YAML configuration, or defaults for this centre."""
    return load_yaml_model(settings.bridge_config, BridgeConfig, centre=settings.centre_id)


def ws_base(ari_url: str) -> str:
    """`http://host:8088/ari` → `ws://host:8088/ari` (https → wss)."""
    scheme, _, rest = ari_url.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}"


async def run_bridge(settings: Settings, redis_url: str) -> None:
    """Run the bridge until cancelled."""
    config = load_bridge_config(settings)
    client = create_redis(redis_url)
    password = settings.ari_password.get_secret_value()
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
            )
            await service.run()
    finally:
        await client.aclose()
