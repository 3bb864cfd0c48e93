"""The fake's dialplan: which applications a channel runs in each context.

Two presets. ``okno_dialplan`` mirrors ``asterisk_conf/extensions.conf``: every DID enters
``Stasis(<app>,inbound,<DID>)`` and calls from neighbouring centres enter
``Stasis(<app>,overflow,<DID>)``. ``recorded_dialplan`` is the dialplan the traces in
``shared/asterisk/traces`` were recorded with (``Stasis(<app>)`` without arguments), used
to replay those flows. Both carry the helper contexts of the recordings (fake agents,
handsets, a transfer target).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    app: str
    data: str = ""  # str.format template: {exten}, {callerid}, {app}


Contexts = dict[str, dict[str, tuple[Step, ...]]]

_SHARED: Contexts = {
    "agents": {
        "_X.": (
            Step("NoOp", "Fake agent {exten}"),
            Step("Answer"),
            Step("Wait", "20"),
            Step("Hangup"),
        )
    },
    "noanswer": {
        "_X.": (
            Step("NoOp", "Ringing agent {exten}, never answers"),
            Step("Ringing"),
            Step("Wait", "60"),
            Step("Hangup"),
        )
    },
    "agency": {
        "_X.": (Step("NoOp", "Agency {exten}"), Step("Answer"), Step("Wait", "30"), Step("Hangup"))
    },
    "transfer-out": {
        "_X.": (
            Step("NoOp", "Transfer to agency {exten}"),
            Step("Dial", "Local/{exten}@agency,30"),
            Step("Hangup"),
        )
    },
    "caller-sim": {
        "s": (Step("NoOp", "Simulated PSTN caller handset"), Step("Wait", "300"), Step("Hangup")),
        "talk": (
            Step("NoOp", "Simulated talking caller handset"),
            Step("Playback", "demo-instruct"),
            Step("Wait", "300"),
            Step("Hangup"),
        ),
    },
}


@dataclass(frozen=True)
class Dialplan:
    contexts: Contexts

    def lookup(self, context: str, exten: str) -> tuple[Step, ...] | None:
        extensions = self.contexts.get(context, {})
        if exten in extensions:
            return extensions[exten]
        for pattern, steps in extensions.items():
            if pattern.startswith("_X.") and exten.isdigit():
                return steps
        return None


def _inbound(
    stasis_data: str, noop: str = "Inbound call to {exten} from {callerid}"
) -> tuple[Step, ...]:
    return (
        Step("NoOp", noop),
        Step("Answer"),
        Step("Stasis", stasis_data),
        Step("Hangup"),
    )


def _dial_out(noop: str, target: str) -> tuple[Step, ...]:
    return (Step("NoOp", noop), Step("Dial", target), Step("Hangup"))


def okno_dialplan() -> Dialplan:
    """What a real Asterisk runs with ``asterisk_conf/extensions.conf``."""
    return Dialplan(
        {
            **_SHARED,
            "from-pstn": {"_X.": _inbound("{app},inbound,{exten}")},
            "from-neighbour": {
                "_X.": _inbound(
                    "{app},overflow,{exten}", "Overflow call to {exten} from {callerid}"
                )
            },
            "to-neighbour-west": {
                "_X.": _dial_out(
                    "Overflow to the western centre, DID {exten}",
                    "PJSIP/{exten}@neighbour-west,30",
                )
            },
            "to-neighbour-east": {
                "_X.": _dial_out(
                    "Overflow to the eastern centre, DID {exten}",
                    "PJSIP/{exten}@neighbour-east,30",
                )
            },
            "to-agency": {
                "_X.": _dial_out("Transfer to agency {exten}", "PJSIP/{exten}@provider,60")
            },
        }
    )


def recorded_dialplan() -> Dialplan:
    """The dialplan of the recordings (MANIFEST.md, "Setup used")."""
    return Dialplan({**_SHARED, "from-pstn": {"_X.": _inbound("{app}")}})
