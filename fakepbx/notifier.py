"""One method per outgoing event, so every ARI event and its AMI mirror is shaped in one place."""

from __future__ import annotations

from typing import Any

from fakepbx.bus import AmiHeaders, EventBus
from fakepbx.objects import AMI_STATE_CODES, Bridge, Channel, Json

CAUSE_TEXT = {
    1: "Unallocated (unassigned) number",
    26: "Answered elsewhere",
    28: "Invalid number format (addr incomplete)",
    31: "Normal, unspecified",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
}


def ami_channel(ch: Channel, prefix: str = "") -> AmiHeaders:
    """The channel block AMI repeats in every channel event (optionally ``Dest``-prefixed)."""
    linked = ch.variables.get("__linkedid", ch.id)
    fields = [
        ("Channel", ch.name),
        ("ChannelState", str(AMI_STATE_CODES.get(ch.state, 0))),
        ("ChannelStateDesc", ch.state),
        ("CallerIDNum", ch.caller.number or "<unknown>"),
        ("CallerIDName", ch.caller.name or "<unknown>"),
        ("ConnectedLineNum", ch.connected.number or "<unknown>"),
        ("ConnectedLineName", ch.connected.name or "<unknown>"),
        ("Language", "en"),
        ("AccountCode", ""),
        ("Context", ch.dialplan.context),
        ("Exten", ch.dialplan.exten),
        ("Priority", str(ch.dialplan.priority)),
        ("Uniqueid", ch.id),
        ("Linkedid", linked),
    ]
    return [(prefix + key, value) for key, value in fields]


def ami_bridge(bridge: Bridge) -> AmiHeaders:
    return [
        ("BridgeUniqueid", bridge.id),
        ("BridgeType", "stasis"),
        ("BridgeTechnology", bridge.technology),
        ("BridgeCreator", "Stasis"),
        ("BridgeName", bridge.name),
        ("BridgeNumChannels", str(len(bridge.channels))),
        ("BridgeVideoSourceMode", "talker"),
    ]


class Notifier:
    """Shapes events; routing to subscribers is the bus's job."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def channel_event(self, event_type: str, ch: Channel, **fields: Any) -> None:
        self.bus.emit(event_type, {**fields, "channel": ch.to_ari()}, channels=[ch.id])

    # --- channel lifecycle -------------------------------------------------------------
    def created(self, ch: Channel) -> None:
        self.bus.ami("Newchannel", "call", ami_channel(ch))

    def state_change(self, ch: Channel) -> None:
        self.channel_event("ChannelStateChange", ch)
        self.bus.ami("Newstate", "call", ami_channel(ch))

    def caller_id(self, ch: Channel) -> None:
        self.channel_event(
            "ChannelCallerId",
            ch,
            caller_presentation=0,
            caller_presentation_txt="Presentation Allowed, Not Screened",
        )
        self.bus.ami(
            "NewCallerid",
            "call",
            [*ami_channel(ch), ("CID-CallingPres", "0 (Presentation Allowed, Not Screened)")],
        )

    def connected_line(self, ch: Channel) -> None:
        self.channel_event("ChannelConnectedLine", ch)
        self.bus.ami("NewConnectedLine", "call", ami_channel(ch))

    def dialplan(self, ch: Channel) -> None:
        self.channel_event(
            "ChannelDialplan",
            ch,
            dialplan_app=ch.dialplan.app_name,
            dialplan_app_data=ch.dialplan.app_data,
        )
        self.bus.ami(
            "Newexten",
            "dialplan",
            [
                *ami_channel(ch),
                ("Extension", ch.dialplan.exten),
                ("Application", ch.dialplan.app_name),
                ("AppData", ch.dialplan.app_data),
            ],
        )

    def varset(self, ch: Channel, variable: str, value: str) -> None:
        self.channel_event("ChannelVarset", ch, variable=variable, value=value)
        self.bus.ami(
            "VarSet", "dialplan", [*ami_channel(ch), ("Variable", variable), ("Value", value)]
        )

    def hangup_request(self, ch: Channel, cause: int, *, soft: bool) -> None:
        fields: Json = {"cause": cause}
        if soft:
            fields["soft"] = True
        self.channel_event("ChannelHangupRequest", ch, **fields)
        self.bus.ami(
            "SoftHangupRequest" if soft else "HangupRequest",
            "call",
            [*ami_channel(ch), ("Cause", str(cause))],
        )

    def destroyed(self, ch: Channel, cause: int) -> None:
        text = CAUSE_TEXT.get(cause, "Unknown")
        self.channel_event("ChannelDestroyed", ch, cause=cause, cause_txt=text)
        self.bus.ami(
            "Hangup", "call", [*ami_channel(ch), ("Cause", str(cause)), ("Cause-txt", text)]
        )

    def dial(self, peer: Channel, status: str) -> None:
        self.bus.emit(
            "Dial",
            {
                "dialstatus": status,
                "forward": "",
                "dialstring": peer.dialstring,
                "peer": peer.to_ari(),
            },
            channels=[peer.id],
        )
        dest = ami_channel(peer, "Dest")
        if status == "":
            self.bus.ami("DialBegin", "call", [*dest, ("DialString", peer.dialstring)])
        elif status == "RINGING":
            self.bus.ami("DialState", "call", [*dest, ("DialStatus", status)])
        else:
            self.bus.ami("DialEnd", "call", [*dest, ("DialStatus", status)])

    # --- Stasis ----------------------------------------------------------------------------
    def stasis_start(self, ch: Channel, args: list[str]) -> None:
        self.bus.emit("StasisStart", {"args": list(args), "channel": ch.to_ari()}, channels=[ch.id])

    def stasis_end(self, ch: Channel) -> None:
        self.channel_event("StasisEnd", ch)

    def dtmf(self, ch: Channel, digit: str, duration_ms: int) -> None:
        self.channel_event("ChannelDtmfReceived", ch, digit=digit, duration_ms=duration_ms)

    def ami_dtmf(self, ch: Channel, digit: str, end: bool, duration_ms: int) -> None:
        headers = [*ami_channel(ch), ("Digit", digit)]
        if end:
            headers.append(("DurationMs", str(duration_ms)))
        headers.append(("Direction", "Received"))
        self.bus.ami("DTMFEnd" if end else "DTMFBegin", "dtmf", headers)

    # --- bridges -----------------------------------------------------------------------------
    def bridge_created(self, bridge: Bridge) -> None:
        self.bus.ami("BridgeCreate", "call", ami_bridge(bridge))

    def entered_bridge(self, bridge: Bridge, ch: Channel) -> None:
        self.bus.emit(
            "ChannelEnteredBridge",
            {"bridge": bridge.to_ari(), "channel": ch.to_ari()},
            channels=[ch.id],
            bridges=[bridge.id],
        )
        self.bus.ami("BridgeEnter", "call", [*ami_bridge(bridge), *ami_channel(ch)])

    def left_bridge(self, bridge: Bridge, ch: Channel) -> None:
        self.bus.emit(
            "ChannelLeftBridge",
            {"bridge": bridge.to_ari(), "channel": ch.to_ari()},
            channels=[ch.id],
            bridges=[bridge.id],
        )
        self.bus.ami("BridgeLeave", "call", [*ami_bridge(bridge), *ami_channel(ch)])

    def bridge_destroyed(self, bridge: Bridge) -> None:
        self.bus.emit("BridgeDestroyed", {"bridge": bridge.to_ari()}, bridges=[bridge.id])
        self.bus.ami("BridgeDestroy", "call", ami_bridge(bridge))

    # --- devices and endpoints ------------------------------------------------------------
    def device_state(self, device: str, state: str) -> None:
        self.bus.emit(
            "DeviceStateChanged", {"device_state": {"name": device, "state": state}}, device=device
        )
        self.bus.ami("DeviceStateChange", "call", [("Device", device), ("State", state)])
