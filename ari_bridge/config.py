"""How this bridge maps Asterisk onto the centre: DIDs, operator endpoints, prompts, contexts."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field


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

    def prompt(self, name: str) -> str:
        return f"{self.prompts_prefix}{name}"
