"""FAQ endpoints: public search and the voice menu's answers, staff editing and workflow."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query, status

from services.common.deps import PageDep, SessionDep, SettingsDep
from services.common.pagination import Page
from services.common.problems import InvalidInput, NotFound
from services.directory.schemas import Topic
from services.knowledge import faq, notices, notifier
from services.knowledge.deps import EditorUser, StaffUser, is_editor
from services.knowledge.models import FAQ_STATUSES, FaqEntry
from services.knowledge.schemas import (
    CallerGroup,
    FaqHitOut,
    FaqIn,
    FaqOut,
    FaqStatus,
    FaqTransition,
    PublicFaqOut,
    SpokenAnswer,
    StaffFaqHitOut,
    UsageIn,
    UsageOut,
)
from services.knowledge.search import Filters, search_faq

public = APIRouter(prefix="/knowledge/public/faq", tags=["knowledge: public"])
staff = APIRouter(prefix="/knowledge/faq", tags=["knowledge: FAQ"])

SearchText = Annotated[str, Query(min_length=1, max_length=200, description="What the caller asks")]
ServiceCode = Annotated[str | None, Query(alias="service", max_length=64)]
MunicipalityName = Annotated[str | None, Query(max_length=100)]


def _today(settings: SettingsDep) -> dt.date:
    return dt.datetime.now(settings.tz).date()


@public.get("/search", response_model=Page[FaqHitOut], summary="Search published answers")
async def public_search(
    session: SessionDep,
    page: PageDep,
    q: SearchText,
    topic: Topic | None = None,
    service_code: ServiceCode = None,
    municipality: MunicipalityName = None,
) -> Page[FaqHitOut]:
    filters = Filters(topic=topic, service_code=service_code, municipality=municipality)
    hits, total = await search_faq(session, q, filters, limit=page.limit, offset=page.offset)
    notifier.searched("public", found=total)
    items = [FaqHitOut(**asdict(hit)) for hit in hits]
    return Page[FaqHitOut](items=items, total=total, limit=page.limit, offset=page.offset)


@public.get("/top", response_model=list[SpokenAnswer], summary="Voice menu: top answers")
async def public_top(
    session: SessionDep,
    settings: SettingsDep,
    topic: Topic | None = None,
    service_code: ServiceCode = None,
    municipality: MunicipalityName = None,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> list[SpokenAnswer]:
    """The most used published answers of a topic or service, with their spoken versions."""
    entries = await faq.top_published(
        session,
        topic=topic,
        service_code=service_code,
        municipality=municipality,
        today=_today(settings),
        limit=limit,
    )
    return [SpokenAnswer(id=e.id, question=e.question, spoken=e.spoken) for e in entries]


@public.get("/{faq_id}", response_model=PublicFaqOut, summary="One published answer")
async def public_get(faq_id: int, session: SessionDep) -> PublicFaqOut:
    entry = await faq.get_entry(session, faq_id)
    if entry.status != "published":
        raise NotFound(f"No FAQ entry {faq_id}")
    return PublicFaqOut.model_validate(entry)


@public.post(
    "/{faq_id}/usage", status_code=status.HTTP_204_NO_CONTENT, summary="Count an answer given"
)
async def public_usage(
    faq_id: int, body: UsageIn, session: SessionDep, settings: SettingsDep
) -> None:
    """Called when the voice menu or an operator gives the answer, with the caller's group."""
    await faq.record_usage(session, faq_id, caller_group=body.caller_group, day=_today(settings))
    notifier.answer_given()


def _statuses(editor: bool, wanted: FaqStatus | None) -> tuple[str, ...]:
    """Operators see published answers only; editors see every state."""
    if not editor:
        if wanted not in (None, "published"):
            raise InvalidInput("Operators see published entries only", field="status")
        return ("published",)
    return (wanted,) if wanted else FAQ_STATUSES


async def _with_warnings(session: SessionDep, entries: list[FaqEntry]) -> list[FaqOut]:
    warnings = await notices.active_warnings(session, "faq", [str(e.id) for e in entries])
    return [
        FaqOut.model_validate(e).model_copy(update={"warnings": warnings.get(str(e.id), [])})
        for e in entries
    ]


@staff.get("", response_model=Page[FaqOut], summary="List entries")
async def list_faq(
    user: StaffUser,
    session: SessionDep,
    page: PageDep,
    topic: Topic | None = None,
    service_code: ServiceCode = None,
    status_: Annotated[FaqStatus | None, Query(alias="status")] = None,
) -> Page[FaqOut]:
    entries, total = await faq.list_entries(
        session,
        statuses=_statuses(is_editor(user), status_),
        topic=topic,
        service_code=service_code,
        limit=page.limit,
        offset=page.offset,
    )
    items = await _with_warnings(session, entries)
    return Page[FaqOut](items=items, total=total, limit=page.limit, offset=page.offset)


@staff.get("/search", response_model=Page[StaffFaqHitOut], summary="Search with warnings")
async def staff_search(
    user: StaffUser,
    session: SessionDep,
    page: PageDep,
    q: SearchText,
    topic: Topic | None = None,
    service_code: ServiceCode = None,
    municipality: MunicipalityName = None,
    status_: Annotated[FaqStatus | None, Query(alias="status")] = None,
) -> Page[StaffFaqHitOut]:
    filters = Filters(
        topic=topic,
        service_code=service_code,
        municipality=municipality,
        statuses=_statuses(is_editor(user), status_),
    )
    hits, total = await search_faq(session, q, filters, limit=page.limit, offset=page.offset)
    notifier.searched("staff", found=total)
    warnings = await notices.active_warnings(session, "faq", [str(h.id) for h in hits])
    items = [StaffFaqHitOut(**asdict(hit), warnings=warnings.get(str(hit.id), [])) for hit in hits]
    return Page[StaffFaqHitOut](items=items, total=total, limit=page.limit, offset=page.offset)


@staff.get("/usage", response_model=list[UsageOut], summary="Most frequent questions (R17)")
async def usage_report(
    _editor: EditorUser,
    session: SessionDep,
    settings: SettingsDep,
    caller_group: Annotated[CallerGroup | None, Query()] = None,
    topic: Topic | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> list[UsageOut]:
    """Answers ranked by use in a period (default: the last 30 days), per caller group."""
    end = until or _today(settings)
    start = since or end - dt.timedelta(days=30)
    if start > end:
        raise InvalidInput("since must not be after until", field="since")
    return await faq.most_frequent(
        session, caller_group=caller_group, topic=topic, since=start, until=end, limit=limit
    )


@staff.post("", response_model=FaqOut, status_code=status.HTTP_201_CREATED, summary="New draft")
async def create_faq(body: FaqIn, editor: EditorUser, session: SessionDep) -> FaqOut:
    entry = await faq.create_entry(
        session, body, actor=editor.username, actor_id=editor.id, now=dt.datetime.now(dt.UTC)
    )
    return FaqOut.model_validate(entry)


@staff.get("/{faq_id}", response_model=FaqOut, summary="One entry with its warnings")
async def get_faq(faq_id: int, user: StaffUser, session: SessionDep) -> FaqOut:
    entry = await faq.get_entry(session, faq_id)
    if entry.status != "published" and not is_editor(user):
        raise NotFound(f"No FAQ entry {faq_id}")
    return (await _with_warnings(session, [entry]))[0]


@staff.put("/{faq_id}", response_model=FaqOut, summary="Edit a draft")
async def update_faq(faq_id: int, body: FaqIn, editor: EditorUser, session: SessionDep) -> FaqOut:
    entry = await faq.update_entry(session, faq_id, body, user=editor, now=dt.datetime.now(dt.UTC))
    return FaqOut.model_validate(entry)


@staff.post("/{faq_id}/transitions", response_model=FaqOut, summary="Submit, publish, …")
async def transition_faq(
    faq_id: int, body: FaqTransition, editor: EditorUser, session: SessionDep
) -> FaqOut:
    entry = await faq.transition(
        session, faq_id, body.action, user=editor, now=dt.datetime.now(dt.UTC)
    )
    return FaqOut.model_validate(entry)
