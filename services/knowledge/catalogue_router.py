"""Catalogue endpoints: public reads, staff reads with warnings, editor saves and history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.common.deps import PageDep, SessionDep
from services.common.pagination import Page
from services.common.problems import InvalidInput, NotFound
from services.directory.schemas import Topic
from services.knowledge import catalogue, notices
from services.knowledge.deps import EditorUser, StaffUser
from services.knowledge.models import CatalogueEntry
from services.knowledge.schemas import (
    CatalogueOut,
    CatalogueSave,
    CatalogueSummary,
    CatalogueVersionOut,
)

public = APIRouter(prefix="/knowledge/public/catalogue", tags=["knowledge: public"])
staff = APIRouter(prefix="/knowledge/catalogue", tags=["knowledge: catalogue"])

Municipality = Annotated[
    str | None, Query(max_length=100, description="Only services provided there")
]
Text = Annotated[str | None, Query(max_length=100, description="Text in name or description")]


async def _page(
    session: SessionDep,
    page: PageDep,
    topic: Topic | None,
    municipality: str | None,
    q: str | None,
) -> Page[CatalogueSummary]:
    entries, total = await catalogue.list_entries(
        session,
        topic=topic,
        municipality=municipality,
        text=q,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[CatalogueSummary](
        items=[CatalogueSummary.model_validate(e) for e in entries],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


async def _entry(session: SessionDep, code: str) -> CatalogueEntry:
    entry = await catalogue.get_entry(session, code)
    if entry is None:
        raise NotFound(f"No catalogue entry {code!r}")
    return entry


@public.get("", response_model=Page[CatalogueSummary], summary="Browse the catalogue")
async def public_list(
    session: SessionDep,
    page: PageDep,
    topic: Topic | None = None,
    municipality: Municipality = None,
    q: Text = None,
) -> Page[CatalogueSummary]:
    return await _page(session, page, topic, municipality, q)


@public.get("/{code}", response_model=CatalogueOut, summary="One service, where it is provided")
async def public_get(code: str, session: SessionDep) -> CatalogueOut:
    entry = await _entry(session, code)
    return catalogue.to_out(entry, provided=await catalogue.provided_in(session, code), warnings=[])


@staff.get("", response_model=Page[CatalogueSummary], summary="Browse the catalogue")
async def staff_list(
    _user: StaffUser,
    session: SessionDep,
    page: PageDep,
    topic: Topic | None = None,
    municipality: Municipality = None,
    q: Text = None,
) -> Page[CatalogueSummary]:
    return await _page(session, page, topic, municipality, q)


@staff.get("/{code}", response_model=CatalogueOut, summary="One service with its warnings")
async def staff_get(code: str, _user: StaffUser, session: SessionDep) -> CatalogueOut:
    entry = await _entry(session, code)
    warnings = await notices.active_warnings(session, "catalogue", [code])
    return catalogue.to_out(
        entry, provided=await catalogue.provided_in(session, code), warnings=warnings.get(code, [])
    )


@staff.put("/{code}", response_model=CatalogueOut, summary="Create or save a new version")
async def save(
    code: str, body: CatalogueSave, editor: EditorUser, session: SessionDep, response: Response
) -> CatalogueOut:
    if body.code != code:
        raise InvalidInput("The code in the body differs from the URL", field="code")
    entry, outcome = await catalogue.save_entry(
        session, body, actor=editor.username, actor_id=editor.id, now=dt.datetime.now(dt.UTC)
    )
    if outcome == "created":
        response.status_code = status.HTTP_201_CREATED
    warnings = await notices.active_warnings(session, "catalogue", [code])
    return catalogue.to_out(
        entry, provided=await catalogue.provided_in(session, code), warnings=warnings.get(code, [])
    )


@staff.get(
    "/{code}/versions", response_model=list[CatalogueVersionOut], summary="History, newest first"
)
async def history(code: str, _user: StaffUser, session: SessionDep) -> list[CatalogueVersionOut]:
    entry = await _entry(session, code)
    return [CatalogueVersionOut.model_validate(v) for v in await catalogue.versions(session, entry)]


@staff.get("/{code}/versions/{number}", response_model=CatalogueVersionOut, summary="One version")
async def one_version(
    code: str, number: int, _user: StaffUser, session: SessionDep
) -> CatalogueVersionOut:
    found = await catalogue.version(session, await _entry(session, code), number)
    if found is None:
        raise NotFound(f"No version {number} of {code!r}")
    return CatalogueVersionOut.model_validate(found)
