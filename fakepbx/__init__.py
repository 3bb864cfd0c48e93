"""A fake Asterisk on loopback: ARI REST + events WebSocket and the AMI line protocol.

It reproduces the behaviour recorded from a real Asterisk 22 in ``../shared/asterisk/traces``
(same event types, fields and order, same status codes), so the bridge, the tests and the
demo run without a PBX::

    async with FakePbx.start(options=PbxOptions(speed=10)) as pbx:
        pbx.register("op1001")
        pbx.set_operator("op1001", answers_after=1.0, hangs_up_after=20.0)
        call = await pbx.inject_call("88005550100", "+79130000001")
        await pbx.press(call.handset_id, "1")
        await pbx.hangup_handset(call.handset_id)

``pbx.ari_url`` / ``pbx.events_url`` / ``pbx.ami_port`` are where clients connect; the same
controls exist over HTTP under ``/fakepbx`` (see :mod:`fakepbx.control`), and
:func:`serve` runs the fake as a process (``okno fakepbx``).
"""

from fakepbx.behaviour import OperatorBehaviour
from fakepbx.control import InjectedCall
from fakepbx.pbx import FakePbx, PbxOptions, serve

__all__ = ["FakePbx", "InjectedCall", "OperatorBehaviour", "PbxOptions", "serve"]
