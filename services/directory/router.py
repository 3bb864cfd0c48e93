"""HTTP endpoints of the directory: public reads, administrator writes and imports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status

from services.auth.deps import AdminUser
from services.common.audit import record_audit
from services.common.deps import PageDep, SessionDep, SettingsDep
from services.common.pagination import Page
from services.common.problems import InvalidInput, NotFound
from services.directory import repository, service
from services.directory.importer import parse_file
from services.directory.schemas import (
    AgencyIn,
    AgencyOut,
    ImportReport,
    Kind,
    MunicipalityOut,
    ServiceOut,
    Topic,
)

router = APIRouter(prefix="/directory", tags=["directory"])

_MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _now(settings: SettingsDep) -> dt.datetime:
    return dt.datetime.now(settings.tz)


@router.get("/agencies", response_model=Page[AgencyOut], summary="Search offices")
async def search_agencies(
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    municipality: Annotated[str | None, Query(max_length=100)] = None,
    service_code: Annotated[
        str | None, Query(alias="service", max_length=64, description="Service code")
    ] = None,
    kind: Kind | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Text in name or address")] = None,
    open_now: Annotated[bool, Query(description="Only offices open at this moment")] = False,
) -> Page[AgencyOut]:
    items, total = await service.search(
        session,
        now=_now(settings),
        municipality=municipality,
        service=service_code,
        kind=kind,
        text=q,
        open_now=open_now,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[AgencyOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/agencies/{code}", response_model=AgencyOut, summary="One office")
async def get_agency(code: str, session: SessionDep, settings: SettingsDep) -> AgencyOut:
    agency = await repository.get_agency(session, code)
    if agency is None:
        raise NotFound(f"No office with code {code!r}")
    now = _now(settings)
    return service.to_out(agency, now=now, calendar=await service.calendar_around(session, now))


@router.put("/agencies/{code}", response_model=AgencyOut, summary="Create or replace an office")
async def put_agency(
    code: str,
    body: AgencyIn,
    admin: AdminUser,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
) -> AgencyOut:
    if body.code != code:
        raise InvalidInput("The code in the body differs from the URL", field="code")
    agency, created = await service.save_agency(session, body)
    await record_audit(
        session,
        actor=admin.username,
        actor_id=admin.id,
        action="directory.agency.create" if created else "directory.agency.update",
        subject_type="agency",
        subject_id=code,
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    now = _now(settings)
    return service.to_out(agency, now=now, calendar=await service.calendar_around(session, now))


@router.delete(
    "/agencies/{code}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an office"
)
async def delete_agency(code: str, admin: AdminUser, session: SessionDep) -> None:
    agency = await repository.get_agency(session, code)
    if agency is None:
        raise NotFound(f"No office with code {code!r}")
    await repository.delete_agency(session, agency)
    await record_audit(
        session,
        actor=admin.username,
        actor_id=admin.id,
        action="directory.agency.delete",
        subject_type="agency",
        subject_id=code,
    )


@router.post("/import", response_model=ImportReport, summary="Import a JSON or CSV file")
async def import_file(
    admin: AdminUser,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="agencies.json or agencies.csv")],
) -> ImportReport:
    raw = await file.read(_MAX_IMPORT_BYTES + 1)
    if len(raw) > _MAX_IMPORT_BYTES:
        raise InvalidInput(f"The file exceeds {_MAX_IMPORT_BYTES} bytes", field="file")
    data = parse_file(raw, filename=file.filename or "")
    return await service.import_directory(session, data, actor=admin.username, actor_id=admin.id)


@router.get("/municipalities", response_model=list[MunicipalityOut], summary="Municipalities")
async def municipalities(session: SessionDep) -> list[MunicipalityOut]:
    return [
        MunicipalityOut.model_validate(m) for m in await repository.list_municipalities(session)
    ]


@router.get("/services", response_model=list[ServiceOut], summary="Services offices provide")
async def services(session: SessionDep, topic: Topic | None = None) -> list[ServiceOut]:
    return [ServiceOut.model_validate(s) for s in await repository.list_services(session, topic)]
