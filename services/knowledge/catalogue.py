"""The service catalogue (R9): versioned entries, and where each service is provided.

Every save that changes something writes a new version with the full content, the fields
that changed, who changed them and when; a save that changes nothing writes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import record_audit
from services.common.problems import InvalidInput
from services.directory.models import Agency, AgencyService, Municipality, Service
from services.knowledge.models import CatalogueEntry, CatalogueVersion
from services.knowledge.schemas import (
    AgencyRef,
    CatalogueIn,
    CatalogueOut,
    CatalogueSave,
    NoticeWarning,
    ProvidedIn,
)

Outcome = Literal["created", "updated", "unchanged"]
CONTENT_FIELDS = tuple(CatalogueIn.model_fields)


def content_of(entry: CatalogueEntry) -> dict[str, Any]:
    """The entry's editable content as JSON-ready data."""
    return CatalogueIn.model_validate(
        {name: getattr(entry, name) for name in CONTENT_FIELDS}
    ).model_dump(mode="json")


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Names of the fields whose values differ, in the catalogue's field order."""
    return [name for name in CONTENT_FIELDS if old.get(name) != new.get(name)]


async def get_entry(session: AsyncSession, code: str) -> CatalogueEntry | None:
    return await session.scalar(select(CatalogueEntry).where(CatalogueEntry.code == code))


async def _directory_service(session: AsyncSession, data: CatalogueIn) -> None:
    """The directory row of the same code: created if missing, its name and topic kept equal."""
    service = await session.scalar(select(Service).where(Service.code == data.code))
    if service is None:
        session.add(Service(code=data.code, name=data.name, topic=data.topic))
    else:
        service.name, service.topic = data.name, data.topic
    await session.flush()


async def save_entry(
    session: AsyncSession,
    data: CatalogueSave,
    *,
    actor: str,
    actor_id: int | None,
    now: dt.datetime,
) -> tuple[CatalogueEntry, Outcome]:
    """Create an entry or save a new version of it."""
    if data.responsible_agency_code is not None and not await session.scalar(
        select(Agency.id).where(Agency.code == data.responsible_agency_code)
    ):
        raise InvalidInput(
            f"No office with code {data.responsible_agency_code!r}",
            field="responsible_agency_code",
        )
    new = CatalogueIn.model_validate(data.model_dump(exclude={"note"})).model_dump(mode="json")
    entry = await get_entry(session, data.code)
    if entry is None:
        await _directory_service(session, data)
        entry = CatalogueEntry(version=1, updated_by=actor, **new)
        session.add(entry)
        changed = list(CONTENT_FIELDS)
        outcome: Outcome = "created"
    else:
        changed = changed_fields(content_of(entry), new)
        if not changed:
            return entry, "unchanged"
        await _directory_service(session, data)
        for name in changed:
            setattr(entry, name, new[name])
        entry.version += 1
        entry.updated_by = actor
        entry.updated_at = now
        outcome = "updated"
    await session.flush()
    session.add(
        CatalogueVersion(
            entry_id=entry.id,
            version=entry.version,
            content=new,
            changed_fields=changed,
            changed_by=actor,
            changed_by_id=actor_id,
            changed_at=now,
            note=data.note,
        )
    )
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action=f"knowledge.catalogue.{'create' if outcome == 'created' else 'update'}",
        subject_type="catalogue",
        subject_id=entry.code,
        details={"version": entry.version, "changed_fields": changed},
    )
    await session.flush()
    await session.refresh(entry)
    return entry, outcome


async def provided_in(session: AsyncSession, code: str) -> list[ProvidedIn]:
    """Offices providing the service, grouped by municipality (from the directory)."""
    rows = await session.execute(
        select(Municipality.name, Agency.code, Agency.name, Agency.address)
        .join(Agency, Agency.municipality_id == Municipality.id)
        .join(AgencyService, AgencyService.agency_id == Agency.id)
        .join(Service, Service.id == AgencyService.service_id)
        .where(Service.code == code)
        .order_by(Municipality.name, Agency.name)
    )
    groups: dict[str, list[AgencyRef]] = {}
    for municipality, agency_code, name, address in rows:
        groups.setdefault(municipality, []).append(
            AgencyRef(code=agency_code, name=name, address=address)
        )
    return [ProvidedIn(municipality=m, agencies=a) for m, a in groups.items()]


def to_out(
    entry: CatalogueEntry, *, provided: list[ProvidedIn], warnings: list[NoticeWarning]
) -> CatalogueOut:
    out = CatalogueOut.model_validate(entry)
    return out.model_copy(update={"provided_in": provided, "warnings": warnings})


async def list_entries(
    session: AsyncSession,
    *,
    topic: str | None,
    municipality: str | None,
    text: str | None,
    limit: int,
    offset: int,
) -> tuple[list[CatalogueEntry], int]:
    """Entries by name; `municipality` keeps those some office there provides."""
    query = select(CatalogueEntry)
    if topic:
        query = query.where(CatalogueEntry.topic == topic)
    if municipality:
        query = query.where(
            CatalogueEntry.code.in_(
                select(Service.code)
                .join(AgencyService, AgencyService.service_id == Service.id)
                .join(Agency, Agency.id == AgencyService.agency_id)
                .join(Municipality, Municipality.id == Agency.municipality_id)
                .where(func.lower(Municipality.name) == municipality.strip().lower())
            )
        )
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(CatalogueEntry.name.ilike(pattern), CatalogueEntry.description.ilike(pattern))
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(CatalogueEntry.name).limit(limit).offset(offset))
    return list(rows), total


async def versions(session: AsyncSession, entry: CatalogueEntry) -> list[CatalogueVersion]:
    """The entry's history, newest first."""
    rows = await session.scalars(
        select(CatalogueVersion)
        .where(CatalogueVersion.entry_id == entry.id)
        .order_by(CatalogueVersion.version.desc())
    )
    return list(rows)


async def version(
    session: AsyncSession, entry: CatalogueEntry, number: int
) -> CatalogueVersion | None:
    return await session.scalar(
        select(CatalogueVersion).where(
            CatalogueVersion.entry_id == entry.id, CatalogueVersion.version == number
        )
    )
