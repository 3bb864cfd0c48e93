"""How a simulated far end behaves when the PBX rings it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorBehaviour:
    """``answers_after=None`` never answers (the originate ``timeout`` ends the ringing);
    ``hangs_up_after=None`` stays on the line until the other side ends the call; ``busy``
    refuses the call at once (SIP 486: Q.850 cause 17). Operator seats and the citizens
    called back through a trunk behave by the same rules."""

    answers_after: float | None = 1.0
    hangs_up_after: float | None = None
    busy: bool = False
