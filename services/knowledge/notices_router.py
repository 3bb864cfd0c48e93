"""Outdated-information notices: staff flag, the agency's inbox, warnings for any entry."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from services.common.deps import PageDep, SessionDep
from services.common.pagination import Page
from services.knowledge import notices, notifier
from services.knowledge.deps import NoticeUser, StaffUser
from services.knowledge.schemas import NoticeAction, NoticeIn, NoticeOut, NoticeWarning

router = APIRouter(prefix="/knowledge", tags=["knowledge: notices"])

Subject = Literal["catalogue", "faq", "agency"]
Status = Literal["open", "in_progress", "resolved", "dismissed"]


@router.post(
    "/notices", response_model=NoticeOut, status_code=status.HTTP_201_CREATED, summary="Flag"
)
async def flag(body: NoticeIn, user: StaffUser, session: SessionDep) -> NoticeOut:
    """Report a catalogue entry, FAQ answer or office record as wrong or outdated."""
    created = await notices.create_notice(session, body, user=user)
    notifier.notice_event("flagged")
    return created


@router.get("/notices", response_model=Page[NoticeOut], summary="Notices (agency: its inbox)")
async def list_notices(
    user: NoticeUser,
    session: SessionDep,
    page: PageDep,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    subject_type: Subject | None = None,
    agency: Annotated[str | None, Query(max_length=64, description="Office code")] = None,
) -> Page[NoticeOut]:
    items, total = await notices.list_notices(
        session,
        user=user,
        status=status_,
        subject_type=subject_type,
        agency_code=agency,
        limit=page.limit,
        offset=page.offset,
    )
    return Page[NoticeOut](items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/notices/{notice_id}", response_model=NoticeOut, summary="One notice")
async def get_notice(notice_id: int, user: NoticeUser, session: SessionDep) -> NoticeOut:
    return await notices.get_notice(session, notice_id, user=user)


@router.post("/notices/{notice_id}/actions", response_model=NoticeOut, summary="Take, resolve…")
async def act(
    notice_id: int, body: NoticeAction, user: NoticeUser, session: SessionDep
) -> NoticeOut:
    moved = await notices.act_on_notice(
        session, notice_id, body, user=user, now=dt.datetime.now(dt.UTC)
    )
    notifier.notice_event(body.action)
    return moved


@router.get(
    "/warnings", response_model=dict[str, list[NoticeWarning]], summary="Open notices per entry"
)
async def warnings(
    _user: StaffUser,
    session: SessionDep,
    subject_type: Subject,
    key: Annotated[list[str], Query(min_length=1, max_length=200, description="Entry keys")],
) -> dict[str, list[NoticeWarning]]:
    """For the workspace to mark entries shown elsewhere (e.g. directory offices) as flagged."""
    return dict(await notices.active_warnings(session, subject_type, key))
