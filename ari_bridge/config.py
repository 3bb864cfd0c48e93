"""How this bridge maps Asterisk onto the centre: DIDs, operator endpoints, prompts, contexts."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from services.acd.schedule import NightSchedule


class DidRoute(BaseModel):
    """What a dialled number means before the voice menu refines it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str = "general"
    language: str = "ru"
    priority: int = Field(default=0, ge=0, le=9)


class BridgeConfig(BaseModel):
    """Everything the call controller needs to know about the local Asterisk set-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    centre: str = "main"
    app: str = "okno"
    holding_bridge_id: str = "okno-queue"
    operator_endpoint: str = Field(
        default="PJSIP/op{agent}", description="Endpoint of an operator; {agent} is the agent id"
    )
    overflow_context: str = Field(
        default="to-{centre}", description="Dialplan context of the trunk to a neighbour"
    )
    prompts_prefix: str = "sound:okno/"
    dids: dict[str, DidRoute] = {}
    default_route: DidRoute = DidRoute()
    menus: bool = Field(
        default=True, description="Run the voice menu before the queue (off: straight to queue)"
    )
    ivr_folder: Path = Field(default=Path("ivr_scripts"), description="The voice menus' flows")
    sounds_dir: Path = Field(
        default=Path(".okno/sounds/okno"), description="Where texts known only in a call are spoken"
    )
    knowledge_url: str = Field(
        default="http://127.0.0.1:8103", description="Knowledge service: the menus' FAQ answers"
    )
    knowledge_timeout_s: float = Field(default=2.0, gt=0)
    complaints_url: str = Field(
        default="http://127.0.0.1:8105",
        description="Complaints service: the status of a complaint asked for in the menu",
    )
    complaints_timeout_s: float = Field(default=3.0, gt=0)
    callback_endpoint: str = Field(
        default="PJSIP/{number}@provider",
        description="How a citizen is called back through the outbound trunk; {number}",
    )
    callback_caller_id: str = Field(
        default="", description="Number the citizen sees on a callback; empty: the trunk's own"
    )
    callback_ring_timeout_s: int = Field(
        default=30, ge=5, le=120, description="How long the citizen's phone rings (no answer)"
    )
    callback_settle_s: float = Field(
        default=3.0,
        ge=0,
        le=30,
        description="A citizen gone within this after answering counts as `hung_up` (voicemail)",
    )
    recordings_dir: Path | None = Field(
        default=None,
        description="Where voice messages are copied from Asterisk (the complaints' folder)",
    )
    transfer_context: str = Field(
        default="to-agency",
        description="Dialplan context of a transfer to an agency (menu or operator)",
    )
    timer_scale: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Multiplies the menus' waits; below 1 only to match a sped-up fake PBX",
    )
    night: NightSchedule = NightSchedule()

    def route_for(self, did: str) -> DidRoute:
        return self.dids.get(did, self.default_route)

    def endpoint_of(self, agent: str) -> str:
        return self.operator_endpoint.format(agent=agent)

    def agent_of_endpoint(self, endpoint: str) -> str | None:
        """The agent id of an operator endpoint ("PJSIP/op1001" → "1001"), if it is one."""
        prefix, _, suffix = self.operator_endpoint.partition("{agent}")
        match = re.fullmatch(re.escape(prefix) + r"(.+?)" + re.escape(suffix), endpoint)
        return match.group(1) if match else None

    def overflow_context_for(self, centre: str) -> str:
        return self.overflow_context.format(centre=centre)

    def callback_endpoint_for(self, number: str) -> str:
        return self.callback_endpoint.format(number=number)

    def prompt(self, name: str) -> str:
        return f"{self.prompts_prefix}{name}"
