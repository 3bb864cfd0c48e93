"""HTTP endpoints of the auth service: login, the current user, users and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Query, Request, status

from services.auth import service
from services.auth.deps import AdminUser, CurrentUser, client_ip
from services.auth.models import Role, User
from services.auth.schemas import (
    AuditOut,
    LoginRequest,
    TokenResponse,
    UserCreate,
    UserOut,
    UserUpdate,
)
from services.auth.tokens import issue_token
from services.common.deps import PageDep, RuntimeDep, SessionDep, SettingsDep
from services.common.pagination import Page
from services.common.problems import AppError

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenResponse, summary="Log in and get an access token")
async def login(
    body: LoginRequest, request: Request, runtime: RuntimeDep, settings: SettingsDep
) -> TokenResponse:
    policy = service.LockoutPolicy.of(settings)
    async with runtime.sessions() as session:
        outcome = await service.authenticate(
            session,
            username=body.username,
            password=body.password,
            policy=policy,
            now=datetime.now(UTC),
            ip=client_ip(request),
        )
        await session.commit()
    if isinstance(outcome, AppError):
        raise outcome
    token, expires = issue_token(
        secret=runtime.signing_secret,
        user_id=outcome.id,
        username=outcome.username,
        role=outcome.role,
        agency_id=outcome.agency_id,
        ttl_seconds=settings.jwt_ttl_seconds,
    )
    return TokenResponse(access_token=token, expires_at=expires, role=Role(outcome.role))


@router.get("/me", response_model=UserOut, summary="The logged-in user")
async def me(user: CurrentUser) -> User:
    return user


@router.get("/users", response_model=Page[UserOut], summary="Staff accounts")
async def list_users(_admin: AdminUser, session: SessionDep, page: PageDep) -> Page[UserOut]:
    users, total = await service.list_users(session, limit=page.limit, offset=page.offset)
    return Page[UserOut](
        items=[UserOut.model_validate(u) for u in users],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a staff account",
)
async def create_user(body: UserCreate, admin: AdminUser, session: SessionDep) -> User:
    return await service.create_user(
        session,
        username=body.username,
        full_name=body.full_name,
        role=body.role,
        password=body.password,
        agency_code=body.agency_code,
        actor=admin.username,
        actor_id=admin.id,
    )


@router.patch("/users/{user_id}", response_model=UserOut, summary="Change a staff account")
async def update_user(
    user_id: int, body: UserUpdate, admin: AdminUser, session: SessionDep
) -> User:
    return await service.update_user(
        session,
        user_id=user_id,
        full_name=body.full_name,
        role=body.role,
        agency_code=body.agency_code,
        password=body.password,
        is_active=body.is_active,
        unlock=body.unlock,
        actor=admin.username,
        actor_id=admin.id,
    )


@router.get("/audit", response_model=Page[AuditOut], summary="The audit log, newest first")
async def audit_log(
    _admin: AdminUser,
    session: SessionDep,
    page: PageDep,
    action: str | None = Query(default=None, max_length=100),
) -> Page[AuditOut]:
    entries, total = await service.list_audit(
        session, action=action, limit=page.limit, offset=page.offset
    )
    return Page[AuditOut](
        items=[AuditOut.model_validate(e) for e in entries],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
