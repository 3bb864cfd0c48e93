"""HTTP endpoints of the supervision service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.auth.deps import SupervisorUser, require_roles
from services.auth.models import Role, User
from services.common.deps import RuntimeDep, SessionDep, SettingsDep
from services.common.streams import Streams
from services.supervision import service
from services.supervision.schemas import ModesIn, ModesOut

router = APIRouter(prefix="/supervision", tags=["supervision"])

StaffUser = Annotated[
    User, Depends(require_roles(Role.OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR))
]


@router.get("/modes", response_model=ModesOut, summary="Night and emergency modes in force")
async def get_modes(_user: StaffUser, runtime: RuntimeDep, settings: SettingsDep) -> ModesOut:
    prefix = settings.stream_prefix()
    return await service.read_modes(Streams(runtime.redis, prefix), prefix)


@router.put("/modes", response_model=ModesOut, summary="Switch night or emergency mode")
async def put_modes(
    body: ModesIn,
    user: SupervisorUser,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
) -> ModesOut:
    prefix = settings.stream_prefix()
    return await service.change_modes(
        session, Streams(runtime.redis, prefix), prefix, body, actor=user.username, actor_id=user.id
    )
