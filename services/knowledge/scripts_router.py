"""Call-script endpoints: staff read the scripts the workspace renders, editors save them."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Response, status

from services.common.deps import SessionDep
from services.common.problems import InvalidInput, NotFound
from services.directory.schemas import Topic
from services.knowledge import scripts
from services.knowledge.deps import EditorUser, StaffUser
from services.knowledge.schemas import ScriptIn, ScriptOut, ScriptSummary

router = APIRouter(prefix="/knowledge/scripts", tags=["knowledge: call scripts"])


@router.get("", response_model=list[ScriptSummary], summary="Scripts by topic")
async def list_scripts(
    _user: StaffUser, session: SessionDep, topic: Topic | None = None
) -> list[ScriptSummary]:
    return [ScriptSummary.model_validate(s) for s in await scripts.list_scripts(session, topic)]


@router.get("/{code}", response_model=ScriptOut, summary="One script with all its steps")
async def get_script(code: str, _user: StaffUser, session: SessionDep) -> ScriptOut:
    script = await scripts.get_script(session, code)
    if script is None:
        raise NotFound(f"No call script {code!r}")
    return ScriptOut.model_validate(script)


@router.put("/{code}", response_model=ScriptOut, summary="Create or replace a script")
async def put_script(
    code: str, body: ScriptIn, editor: EditorUser, session: SessionDep, response: Response
) -> ScriptOut:
    if body.code != code:
        raise InvalidInput("The code in the body differs from the URL", field="code")
    script, created = await scripts.save_script(
        session, body, actor=editor.username, actor_id=editor.id, now=dt.datetime.now(dt.UTC)
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return ScriptOut.model_validate(script)
