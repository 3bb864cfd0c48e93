"""Staff users. Citizens never have accounts; they are identified per call or booking."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Identity, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, Timestamped


class Role(enum.StrEnum):
    """What a staff member may do; an agency user also belongs to exactly one agency."""

    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMINISTRATOR = "administrator"
    AGENCY = "agency"


class User(Timestamped, Base):
    """A staff account with an argon2 password hash and a failed-login counter for lockout."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('operator', 'supervisor', 'administrator', 'agency')", name="role_known"
        ),
        CheckConstraint("(role = 'agency') = (agency_id IS NOT NULL)", name="agency_iff_role"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id", ondelete="RESTRICT"))
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    is_active: Mapped[bool] = mapped_column(nullable=False, default=True)
    failed_logins: Mapped[int] = mapped_column(nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Usernames are unique regardless of case ("Ivanova" and "ivanova" are one person).
Index("uq_users_username_lower", func.lower(User.username), unique=True)
