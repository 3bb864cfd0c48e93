"""PJSIP endpoints: operator seats that register and answer per their behaviour, and trunks.

Registration emits the recorded sequence of ``sip_registration_ami`` (ARI and AMI); a call
to an operator seat rings, answers and hangs up like the traced agent legs (Dial "" ->
RINGING -> ANSWER, STASISSTATUS, StasisStart; timeout -> ChannelDestroyed cause 19).
"""

from __future__ import annotations

import time

from fakepbx.behaviour import OperatorBehaviour
from fakepbx.calls import Calls
from fakepbx.clock import ari_timestamp
from fakepbx.errors import AriError
from fakepbx.objects import CallerId, Channel, Dialplan, Endpoint, Json

OPERATOR_CONTEXT = "operators"  # the context of operator endpoints in asterisk_conf/pjsip.conf


class Phones(Calls):
    def add_endpoint(self, resource: str, *, trunk: bool = False) -> Endpoint:
        endpoint = self.endpoints.setdefault(resource, Endpoint(resource, is_trunk=trunk))
        self.device_states.setdefault(f"PJSIP/{resource}", endpoint.device_state)
        return endpoint

    def endpoint(self, resource: str) -> Endpoint:
        endpoint = self.endpoints.get(resource)
        if endpoint is None:
            raise AriError(404, "Endpoint not found")
        return endpoint

    def set_behaviour(self, resource: str, behaviour: OperatorBehaviour) -> None:
        self.add_endpoint(resource)
        self.behaviours[resource] = behaviour

    # --- registration -------------------------------------------------------------------
    def register(self, resource: str, contact_port: int = 5062) -> None:
        endpoint = self.add_endpoint(resource)
        if endpoint.contact_uri is not None:
            return
        endpoint.contact_uri = f"sip:{resource}@127.0.0.1:{contact_port}"
        self._ami_auth(resource)
        self._device_changed(resource)
        self._endpoint_event("EndpointStateChange", endpoint)
        self._peer_status(endpoint, "Reachable")
        self._contact_status(endpoint, "NonQualified")

    def unregister(self, resource: str) -> None:
        endpoint = self.endpoint(resource)
        if endpoint.contact_uri is None:
            return
        uri, endpoint.contact_uri = endpoint.contact_uri, None
        self._ami_auth(resource)
        self._endpoint_event("EndpointStateChange", endpoint)
        self._device_changed(resource)
        self._peer_status(endpoint, "Unreachable")
        self._contact_status(endpoint, "Removed", uri)

    def _ami_auth(self, resource: str) -> None:
        session = [
            ("EventTV", ari_timestamp()),
            ("Severity", "Informational"),
            ("Service", "PJSIP"),
            ("EventVersion", "1"),
            ("AccountID", resource),
            ("SessionID", f"{resource}-fake@127.0.0.1"),
            ("LocalAddress", "IPV4/UDP/127.0.0.1/5060"),
            ("RemoteAddress", "IPV4/UDP/127.0.0.1/5062"),
        ]
        self.bus.ami("ChallengeSent", "security", [*session, ("Challenge", "")])
        self.bus.ami("SuccessfulAuth", "security", [*session, ("UsingPassword", "1")])

    def _endpoint_event(self, event_type: str, endpoint: Endpoint, **fields: object) -> None:
        self.bus.emit(
            event_type,
            {"endpoint": endpoint.to_ari(), **fields},
            endpoint=f"PJSIP/{endpoint.resource}",
        )

    def _peer_status(self, endpoint: Endpoint, status: str) -> None:
        self._endpoint_event("PeerStatusChange", endpoint, peer={"peer_status": status})
        self.bus.ami(
            "PeerStatus",
            "system",
            [
                ("ChannelType", "PJSIP"),
                ("Peer", f"PJSIP/{endpoint.resource}"),
                ("PeerStatus", status),
            ],
        )

    def _contact_status(self, endpoint: Endpoint, status: str, uri: str | None = None) -> None:
        uri = uri or endpoint.contact_uri or ""
        self._endpoint_event(
            "ContactStatusChange",
            endpoint,
            contact_info={
                "uri": uri,
                "contact_status": status,
                "aor": endpoint.resource,
                "roundtrip_usec": "0",
            },
        )
        self.bus.ami(
            "ContactStatus",
            "system",
            [
                ("URI", uri),
                ("ContactStatus", status),
                ("AOR", endpoint.resource),
                ("EndpointName", endpoint.resource),
                ("RoundtripUsec", "0"),
            ],
        )

    def _device_changed(self, resource: str) -> None:
        endpoint = self.endpoints[resource]
        live = [c for c in self.channels.values() if c.endpoint == resource and not c.destroyed]
        endpoint.channel_ids = [c.id for c in live]
        state = endpoint.device_state
        if endpoint.online and any(c.state == "Ringing" for c in live):
            state = "RINGING"
        device = f"PJSIP/{resource}"
        if self.device_states.get(device) != state:
            self.device_states[device] = state
            self.notify.device_state(device, state)

    def endpoint_changed(self, resource: str) -> None:
        if resource in self.endpoints:
            self._device_changed(resource)

    # --- calls to endpoints ---------------------------------------------------------------
    def _originate_pjsip(
        self,
        resource: str,
        caller: CallerId,
        app: str | None,
        args: list[str],
        timeout: float,
        channel_id: str | None,
    ) -> Json:
        number, _, trunk = resource.partition("@")
        endpoint = self.endpoints.get(trunk or number)
        if endpoint is None:
            raise AriError(400, "Invalid endpoint")
        if not endpoint.online:
            raise AriError(500, "Allocation failed")  # chan_pjsip cannot find a contact
        if endpoint.is_trunk:
            behaviour = self.number_behaviours.get(number, self.remote_behaviour)
        else:
            behaviour = self.behaviours.get(endpoint.resource, OperatorBehaviour())
        context = "from-provider" if endpoint.is_trunk else OPERATOR_CONTEXT
        ch = Channel(
            channel_id or self.next_channel_id(),
            f"PJSIP/{endpoint.resource}-{self.next_tech_suffix()}",
            "Down",
            CallerId(caller.name, caller.number),
            CallerId(caller.name, caller.number),
            Dialplan(context, "s", 1, "AppDial2", "(Outgoing Line)"),
            time.time(),
            endpoint=endpoint.resource,
            dialstring=resource,
        )
        ch.originated_app, ch.originated_app_args = app, args
        self.origin_dialplans[ch.id] = Dialplan(**ch.dialplan.to_ari())
        self.register_channel(ch)
        if app is not None:
            self.subscribe_channel(app, ch)
        snapshot = ch.to_ari()
        self.channel_tasks[ch.id] = self.supervisor.spawn(
            self._run_phone(ch, behaviour, timeout), f"phone-{ch.id}"
        )
        return snapshot

    async def _run_phone(
        self, ch: Channel, behaviour: OperatorBehaviour, ring_seconds: float
    ) -> None:
        await self.sleep(0)
        self.notify.dial(ch, "")
        if behaviour.busy:
            self._refused_busy(ch)
            return
        self.timers[ch.id] = self.supervisor.spawn(
            self._phone_timeout(ch, ring_seconds), f"timeout-{ch.id}"
        )
        ch.state = "Ringing"
        self.notify.state_change(ch)
        self.notify.dial(ch, "RINGING")
        self.endpoint_changed(ch.endpoint or "")
        if behaviour.answers_after is None or behaviour.answers_after >= ring_seconds:
            return
        await self.sleep(behaviour.answers_after)
        if ch.hangup_started or ch.state == "Up":
            return
        self.phone_answers(ch)
        if behaviour.hangs_up_after is None:
            return
        await self.sleep(behaviour.hangs_up_after)
        if not ch.hangup_started:
            self.hangup_from_dialplan(ch)

    def _refused_busy(self, ch: Channel) -> None:
        """486 Busy Here before any ringing: the far end's hang-up with cause 17, the dial
        status BUSY, then the channel dies with "User busy"."""
        ch.hangup_started = True
        self.notify.hangup_request(ch, 17, soft=False)
        self.notify.dial(ch, "BUSY")
        self.destroy(ch, 17)

    def set_number(self, number: str, behaviour: OperatorBehaviour) -> None:
        """How the phone of ``number`` (called through any trunk) behaves on the next calls."""
        self.number_behaviours[number] = behaviour

    def phone_answers(self, ch: Channel) -> None:
        if ch.hangup_started or ch.state == "Up":
            return
        ch.state = "Up"
        self.notify.state_change(ch)
        self.leg_answered(ch)

    async def _phone_timeout(self, ch: Channel, ring_seconds: float) -> None:
        await self.sleep(ring_seconds)
        self.timers.pop(ch.id, None)
        if ch.state != "Up" and not ch.hangup_started:
            ch.hangup_started = True
            self.destroy(ch, 19)
