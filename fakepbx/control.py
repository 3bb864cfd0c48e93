"""Driving the simulated world: callers dialling in, pressing keys, hanging up, and operator
phones registering and behaving. The same operations as a Python API (:class:`Controller`)
and as HTTP routes under ``/fakepbx`` for the ``okno fakepbx`` process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fakepbx.ari_http import require_auth
from fakepbx.behaviour import OperatorBehaviour
from fakepbx.engine import Engine
from fakepbx.errors import AriError


@dataclass(frozen=True)
class InjectedCall:
    """``handset_id`` is the caller's phone (Local ;1); ``channel_id`` is what the app sees."""

    handset_id: str
    channel_id: str


class Controller:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def inject_call(
        self,
        *,
        did: str,
        caller: str,
        caller_name: str = "",
        context: str = "from-pstn",
        talk: bool = False,
    ) -> InjectedCall:
        """A citizen dials ``did``: the ``;2`` half enters Stasis per the dialplan."""
        caller_id = f'"{caller_name}" <{caller}>' if caller_name else f"<{caller}>"
        handset = self.engine.originate(
            endpoint=f"Local/{did}@{context}",
            context="caller-sim",
            exten="talk" if talk else "s",
            caller_id=caller_id,
            timeout=30,
        )
        channel = self.engine.channel(handset["id"])
        assert channel.peer_id is not None
        return InjectedCall(handset_id=channel.id, channel_id=channel.peer_id)

    async def press(self, handset_id: str, digits: str, duration_ms: int = 100) -> None:
        await self.engine.send_dtmf(self.engine.channel(handset_id), digits, duration_ms)

    def hangup_handset(self, handset_id: str) -> None:
        self.engine.app_hangup(self.engine.channel(handset_id))

    def set_operator(
        self, resource: str, *, answers_after: float | None, hangs_up_after: float | None = None
    ) -> None:
        self.engine.set_behaviour(resource, OperatorBehaviour(answers_after, hangs_up_after))

    def set_number(
        self,
        number: str,
        *,
        answers_after: float | None,
        hangs_up_after: float | None = None,
        busy: bool = False,
    ) -> None:
        """How a citizen's phone (a number called back through a trunk) behaves."""
        self.engine.set_number(number, OperatorBehaviour(answers_after, hangs_up_after, busy))

    def register(self, resource: str, contact_port: int = 5062) -> None:
        self.engine.register(resource, contact_port)

    def unregister(self, resource: str) -> None:
        self.engine.unregister(resource)

    def operator_answer(self, resource: str) -> int:
        """Someone at the seat picks up (the web workspace in demo mode has no softphone)."""
        ringing = [
            c
            for c in self.engine.channels.values()
            if c.endpoint == resource and c.state == "Ringing"
        ]
        for ch in ringing:
            self.engine.phone_answers(ch)
        return len(ringing)

    def operator_hangup(self, resource: str) -> int:
        """The operator puts the phone down; returns how many calls ended."""
        calls = [c for c in self.engine.channels.values() if c.endpoint == resource]
        for ch in calls:
            self.engine.hangup_from_dialplan(ch)
        return len(calls)


# --- HTTP --------------------------------------------------------------------------------------
router = APIRouter(prefix="/fakepbx", dependencies=[Depends(require_auth)])


def _controller(request: Request) -> Controller:
    controller: Controller = request.app.state.controller
    return controller


ControllerDep = Annotated[Controller, Depends(_controller)]


class CallIn(BaseModel):
    did: str = Field(min_length=1)
    caller: str = Field(min_length=1)
    caller_name: str = ""
    context: str = "from-pstn"


class DigitsIn(BaseModel):
    digits: str = Field(min_length=1, pattern=r"^[0-9*#A-D]+$")
    duration_ms: int = Field(default=100, ge=40, le=2000)


class OperatorIn(BaseModel):
    answers_after: float | None = Field(default=1.0, ge=0)
    hangs_up_after: float | None = Field(default=None, ge=0)


class NumberIn(OperatorIn):
    busy: bool = False


@router.post("/calls", status_code=201)
async def inject_call(body: CallIn, controller: ControllerDep) -> dict[str, str]:
    call = controller.inject_call(
        did=body.did, caller=body.caller, caller_name=body.caller_name, context=body.context
    )
    return {"handset_id": call.handset_id, "channel_id": call.channel_id}


@router.post("/calls/{handset_id}/dtmf", status_code=204)
async def press(handset_id: str, body: DigitsIn, controller: ControllerDep) -> Response:
    await controller.press(handset_id, body.digits, body.duration_ms)
    return Response(status_code=204)


@router.delete("/calls/{handset_id}", status_code=204)
async def hangup_handset(handset_id: str, controller: ControllerDep) -> Response:
    controller.hangup_handset(handset_id)
    return Response(status_code=204)


@router.put("/operators/{resource}", status_code=204)
async def set_operator(resource: str, body: OperatorIn, controller: ControllerDep) -> Response:
    controller.set_operator(
        resource, answers_after=body.answers_after, hangs_up_after=body.hangs_up_after
    )
    return Response(status_code=204)


@router.put("/numbers/{number}", status_code=204)
async def set_number(number: str, body: NumberIn, controller: ControllerDep) -> Response:
    controller.set_number(
        number,
        answers_after=body.answers_after,
        hangs_up_after=body.hangs_up_after,
        busy=body.busy,
    )
    return Response(status_code=204)


@router.post("/operators/{resource}/registration", status_code=204)
async def register(resource: str, controller: ControllerDep) -> Response:
    controller.register(resource)
    return Response(status_code=204)


@router.delete("/operators/{resource}/registration", status_code=204)
async def unregister(resource: str, controller: ControllerDep) -> Response:
    if resource not in controller.engine.endpoints:
        raise AriError(404, "Endpoint not found")
    controller.unregister(resource)
    return Response(status_code=204)


@router.post("/operators/{resource}/answer")
async def operator_answer(resource: str, controller: ControllerDep) -> dict[str, int]:
    return {"answered": controller.operator_answer(resource)}


@router.post("/operators/{resource}/hangup")
async def operator_hangup(resource: str, controller: ControllerDep) -> dict[str, int]:
    return {"ended": controller.operator_hangup(resource)}
