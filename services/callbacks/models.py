"""Tables of callbacks: one row per callback request, and one per dialling attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base

#: Every status; the first two are open (the citizen still waits for the call).
OPEN = ("pending", "dialling")
FINAL = ("done", "failed", "cancelled", "merged", "closed")
STATUSES = OPEN + FINAL


class Callback(Base):
    """A callback from request to its end. The router log is its source of truth; the API
    writes a row first only for callbacks staff schedule (and cancels provisionally)."""

    __tablename__ = "callbacks"
    __table_args__ = (
        Index("ix_callbacks_centre_status_requested_at", "centre", "status", "requested_at"),
        Index("ix_callbacks_centre_caller", "centre", "caller"),
        Index("ix_callbacks_centre_agent_id", "centre", "agent_id"),
        Index("ix_callbacks_centre_promised_by", "centre", "promised_by"),
        UniqueConstraint("centre", "idempotency_key", name="uq_callbacks_idempotency_key"),
    )

    centre: Mapped[str] = mapped_column(String(32), primary_key=True)
    callback_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    caller: Mapped[str] = mapped_column(String(32), nullable=False)
    topic: Mapped[str] = mapped_column(String(32), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="ru")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The deadline in force (a retry gets its own).
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The deadline first promised, which the on-time figure is judged by: never moved later.
    promised_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the citizen's phone first rang (the operator's seat took the callback leg).
    first_dialled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_result: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    merged_into: Mapped[str | None] = mapped_column(String(128))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    #: The last router-log entry applied to the row: older or equal entries are redeliveries.
    last_entry: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CallbackAttempt(Base):
    """One dialling of the citizen and how it ended, tied to its router-log entry (dedup)."""

    __tablename__ = "callback_attempts"
    __table_args__ = (
        UniqueConstraint(
            "centre", "callback_id", "source_entry", name="uq_callback_attempts_source"
        ),
        ForeignKeyConstraint(
            ["centre", "callback_id"],
            ["callbacks.centre", "callbacks.callback_id"],
            ondelete="CASCADE",
            name="fk_callback_attempts_callback_callbacks",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    centre: Mapped[str] = mapped_column(String(32), nullable=False)
    callback_id: Mapped[str] = mapped_column(String(128), nullable=False)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False)
    agent_id: Mapped[str] = mapped_column(String(64), nullable=False)
    result: Mapped[str] = mapped_column(String(16), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    source_entry: Mapped[str] = mapped_column(String(32), nullable=False)
