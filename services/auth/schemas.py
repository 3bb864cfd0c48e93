"""Request and response bodies of the auth service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.auth.models import Role
from services.auth.passwords import MIN_PASSWORD_LENGTH

Username = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{3,64}$")
]
Password = Annotated[str, StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=256)]


class LoginRequest(BaseModel):
    username: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    role: Role


class UserCreate(BaseModel):
    username: Username
    full_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
    ]
    role: Role
    password: Password
    agency_code: str | None = Field(
        default=None, max_length=64, description="Required for the agency role, else empty"
    )


class UserUpdate(BaseModel):
    full_name: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    role: Role | None = None
    agency_code: str | None = Field(default=None, max_length=64)
    password: Password | None = None
    is_active: bool | None = None
    unlock: bool = Field(default=False, description="Clear a login lockout")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: Role
    agency_id: int | None
    is_active: bool
    locked_until: datetime | None
    last_login_at: datetime | None


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    subject_type: str | None
    subject_id: str | None
    details: dict[str, object]
    ip: str | None
