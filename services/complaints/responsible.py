"""Which agency answers for a complaint: from the service and the municipality, through the
directory (who provides the service where) and the catalogue (who is responsible for it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.problems import InvalidInput
from services.directory.models import Agency, AgencyService, Municipality, Service
from services.knowledge.models import CatalogueEntry


@dataclass(frozen=True, slots=True)
class Responsible:
    agency: Agency
    service: Service | None
    municipality: Municipality | None
    #: "operator" (named explicitly), "directory" (the local office providing the service),
    #: "catalogue" (the catalogue's responsible agency) or "mfc" (the local one-window office).
    chosen_by: str


async def _by_code(session: AsyncSession, code: str) -> Agency:
    agency = await session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise InvalidInput(f"No office with code {code!r}", field="agency_code")
    return agency


async def _providers(session: AsyncSession, service: Service, town: Municipality) -> list[Agency]:
    """Offices in the municipality providing the service, agencies before MFC offices."""
    rows = await session.scalars(
        select(Agency)
        .join(AgencyService, AgencyService.agency_id == Agency.id)
        .where(AgencyService.service_id == service.id, Agency.municipality_id == town.id)
        .order_by(Agency.kind == "mfc", Agency.code)
    )
    return list(rows)


async def resolve(
    session: AsyncSession,
    *,
    service_code: str | None,
    municipality: str | None,
    agency_code: str | None,
) -> Responsible:
    """The responsible office. An explicit `agency_code` (the operator's correction) wins;
    otherwise the local agency providing the service, then the catalogue's responsible
    agency, then the local MFC office. Refused (422) when none is found."""
    service = None
    if service_code is not None:
        service = await session.scalar(select(Service).where(Service.code == service_code))
        if service is None:
            raise InvalidInput(f"No service with code {service_code!r}", field="service_code")
    town = None
    if municipality is not None:
        town = await session.scalar(select(Municipality).where(Municipality.name == municipality))
        if town is None:
            raise InvalidInput(f"No municipality {municipality!r}", field="municipality")
    if agency_code is not None:
        return Responsible(await _by_code(session, agency_code), service, town, "operator")
    providers = await _providers(session, service, town) if service and town else []
    if providers and providers[0].kind != "mfc":
        return Responsible(providers[0], service, town, "directory")
    if service is not None:
        code = await session.scalar(
            select(CatalogueEntry.responsible_agency_code).where(
                CatalogueEntry.code == service.code
            )
        )
        if code is not None:
            return Responsible(await _by_code(session, code), service, town, "catalogue")
    if providers:
        return Responsible(providers[0], service, town, "mfc")
    raise InvalidInput(
        "The responsible office cannot be found from the service and municipality; "
        "give agency_code",
        field="agency_code",
    )


#: The kind of office that answers for a voice-menu topic; topics with no kind of their own
#: (complaints, status, technical help, general) go to the one-window MFC office.
TOPIC_KINDS = {
    "mfc": "mfc",
    "social": "social_protection",
    "passports": "migration",
    "health": "healthcare",
    "housing": "housing",
}


async def resolve_voice(
    session: AsyncSession, *, topic: str, configured: dict[str, str], municipality: str
) -> Responsible | None:
    """The office for a voice message, which names no service and no municipality: the office
    configured for its topic; else the office of the topic's kind in the centre's municipality;
    else that municipality's MFC office; else any MFC office. None when the directory has none.
    Staff correct the choice with a redirect, as for any complaint."""
    code = configured.get(topic) or configured.get("*")
    if code is not None:
        agency = await session.scalar(select(Agency).where(Agency.code == code))
        if agency is not None:  # a stale setting falls through to the directory's rules
            return Responsible(agency, None, None, "voice_topic")
    town = await session.scalar(select(Municipality).where(Municipality.name == municipality))
    kind = TOPIC_KINDS.get(topic, "mfc")
    for wanted, local, chosen_by in (
        (kind, True, "directory"),
        ("mfc", True, "mfc"),
        ("mfc", False, "mfc"),
    ):
        query = select(Agency).where(Agency.kind == wanted).order_by(Agency.code).limit(1)
        if local:
            if town is None:
                continue
            query = query.where(Agency.municipality_id == town.id)
        agency = await session.scalar(query)
        if agency is not None:
            return Responsible(agency, None, town if local else None, chosen_by)
    return None
