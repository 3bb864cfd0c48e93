"""Tables of call records: one summary row per call, and its timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base


class CallRecord(Base):
    """A call from arrival to its end: outcome, durations and who hung up. Never reset."""

    __tablename__ = "calls"

    # Asterisk's channel ids are unique per node, not across nodes or centres: the centre is
    # part of the key.
    centre: Mapped[str] = mapped_column(String(32), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    did: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    caller: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    topic: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    arrived_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, index=True
    )
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agent_id: Mapped[str | None] = mapped_column(String(64), index=True)
    offers: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    outcome: Mapped[str] = mapped_column(String(32), nullable=False, default="in_progress")
    hangup_side: Mapped[str | None] = mapped_column(String(16))
    expected_wait_seconds: Mapped[float | None] = mapped_column(Float)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    overflowed_to: Mapped[str | None] = mapped_column(String(64))


class CallEvent(Base):
    """One step of a call's timeline, tied to the router-log entry it came from (dedup)."""

    __tablename__ = "call_events"
    __table_args__ = (
        UniqueConstraint("centre", "source_entry", "position", name="uq_call_events_source"),
        ForeignKeyConstraint(
            ["centre", "call_id"],
            ["calls.centre", "calls.call_id"],
            ondelete="CASCADE",
            name="fk_call_events_call_calls",
        ),
        Index("ix_call_events_centre_call_id", "centre", "call_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    centre: Mapped[str] = mapped_column(String(32), nullable=False)
    call_id: Mapped[str] = mapped_column(String(128), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
    source_entry: Mapped[str] = mapped_column(String(32), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
