"""Import, export and the search's synonym groups (supervisors and administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from services.common.deps import SessionDep
from services.common.problems import InvalidInput
from services.knowledge import exchange, synonyms
from services.knowledge.deps import EditorUser, StaffUser
from services.knowledge.schemas import ImportReport, SynonymGroupIn, SynonymGroupOut

router = APIRouter(prefix="/knowledge", tags=["knowledge: import, export, synonyms"])

_MAX_IMPORT_BYTES = 5 * 1024 * 1024


@router.get("/export", summary="Export everything as JSON, YAML or CSV")
async def export(
    _editor: EditorUser,
    session: SessionDep,
    format_: Annotated[exchange.Format, Query(alias="format")] = "json",
    part: Annotated[exchange.CsvPart, Query(description="What a CSV holds")] = "faq",
) -> Response:
    body, media_type = exchange.render(await exchange.export_bundle(session), format_, part)
    name = f"knowledge-{part}.csv" if format_ == "csv" else f"knowledge.{format_}"
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/import", response_model=ImportReport, summary="Import a JSON, YAML or CSV file")
async def import_file(
    editor: EditorUser,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="knowledge.json, .yaml or a FAQ/catalogue CSV")],
) -> ImportReport:
    raw = await file.read(_MAX_IMPORT_BYTES + 1)
    if len(raw) > _MAX_IMPORT_BYTES:
        raise InvalidInput(f"The file exceeds {_MAX_IMPORT_BYTES} bytes", field="file")
    data = exchange.parse_file(raw, filename=file.filename or "")
    return await exchange.import_bundle(
        session, data, actor=editor.username, actor_id=editor.id, now=dt.datetime.now(dt.UTC)
    )


@router.get("/synonyms", response_model=list[SynonymGroupOut], summary="Synonym groups")
async def list_synonyms(_user: StaffUser, session: SessionDep) -> list[SynonymGroupOut]:
    return [SynonymGroupOut.model_validate(g) for g in await synonyms.list_groups(session)]


@router.post(
    "/synonyms",
    response_model=SynonymGroupOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a synonym group",
)
async def add_synonyms(
    body: SynonymGroupIn, _editor: EditorUser, session: SessionDep
) -> SynonymGroupOut:
    return SynonymGroupOut.model_validate(await synonyms.save_group(session, body.terms))


@router.put("/synonyms/{group_id}", response_model=SynonymGroupOut, summary="Replace a group")
async def replace_synonyms(
    group_id: int, body: SynonymGroupIn, _editor: EditorUser, session: SessionDep
) -> SynonymGroupOut:
    group = await synonyms.save_group(session, body.terms, group_id=group_id)
    return SynonymGroupOut.model_validate(group)


@router.delete(
    "/synonyms/{group_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a group"
)
async def delete_synonyms(group_id: int, _editor: EditorUser, session: SessionDep) -> None:
    await synonyms.delete_group(session, group_id)
