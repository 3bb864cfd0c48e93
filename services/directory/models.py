"""Tables of the agency directory."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    SmallInteger,
    String,
    Text,
    Time,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.common.db import Base, Timestamped

AGENCY_KINDS = (
    "mfc",
    "social_protection",
    "migration",
    "pension_fund",
    "rosreestr",
    "tax",
    "civil_registry",
    "employment",
    "housing",
    "healthcare",
    "administration",
)


class Municipality(Base):
    """A town or district an office serves."""

    __tablename__ = "municipalities"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)


class Service(Base):
    """A state or municipal service, by code, as offices provide it (the knowledge service
    keeps the full catalogue entry under the same code)."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    topic: Mapped[str] = mapped_column(String(32), nullable=False, index=True)


class AgencyService(Base):
    """Which office provides which service."""

    __tablename__ = "agency_services"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Agency(Timestamped, Base):
    """An agency office or an MFC office."""

    __tablename__ = "agencies"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{kind}'" for kind in AGENCY_KINDS) + ")", name="kind_known"
        ),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipalities.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    address: Mapped[str] = mapped_column(String(500), nullable=False)
    phones: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)

    municipality: Mapped[Municipality] = relationship(lazy="joined")
    hours: Mapped[list[AgencyHours]] = relationship(
        cascade="all, delete-orphan", order_by="(AgencyHours.weekday, AgencyHours.opens)"
    )
    holidays: Mapped[list[AgencyHoliday]] = relationship(
        cascade="all, delete-orphan", order_by="AgencyHoliday.day"
    )
    services: Mapped[list[Service]] = relationship(
        secondary="agency_services", order_by=Service.code
    )


class AgencyHours(Base):
    """One opening period of an office on a weekday (0 = Monday), with an optional break."""

    __tablename__ = "agency_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
        CheckConstraint(
            "(break_start IS NULL AND break_end IS NULL) OR "
            "(opens < break_start AND break_start < break_end AND break_end < closes)",
            name="break_inside",
        ),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    opens: Mapped[dt.time] = mapped_column(Time, nullable=False)
    closes: Mapped[dt.time] = mapped_column(Time, nullable=False)
    break_start: Mapped[dt.time | None] = mapped_column(Time)
    break_end: Mapped[dt.time | None] = mapped_column(Time)


class AgencyHoliday(Base):
    """A day an office is closed (its own days off and public holidays it observes)."""

    __tablename__ = "agency_holidays"

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)


class PublicHoliday(Base):
    """The centre's holiday calendar: non-working days and shortened pre-holiday days.

    On a shortened day every office closes one hour earlier (Labour Code art. 95)."""

    __tablename__ = "public_holidays"
    __table_args__ = (CheckConstraint("kind IN ('holiday', 'shortened')", name="kind_known"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
