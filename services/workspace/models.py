"""Tables of the workspace: operators' seats at the router and the consultation journal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, Timestamped


class OperatorSeat(Timestamped, Base):
    """Which router agent a staff user is (agent "1001" answers on softphone op1001), with the
    topic and language levels sent in `AgentLoggedIn`."""

    __tablename__ = "operator_seats"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    skills: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False, default=dict)
    languages: Mapped[dict[str, int]] = mapped_column(JSONB, nullable=False, default=dict)


class JournalEntry(Base):
    """One consultation (R17 steps 5-6): what was asked, whether the caller was satisfied,
    their wishes, or the reasons and the follow-up plan."""

    __tablename__ = "consultation_journal"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
    operator_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    agent_id: Mapped[str] = mapped_column(String(64), nullable=False)
    call_id: Mapped[str] = mapped_column(String(128), nullable=False, default="", index=True)
    caller: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    topic: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    satisfied: Mapped[bool] = mapped_column(Boolean, nullable=False)
    wishes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reasons: Mapped[str] = mapped_column(Text, nullable=False, default="")
    follow_up: Mapped[str] = mapped_column(Text, nullable=False, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict)
