"""Tables of appointment booking: office schedules, bookable resources, bookings and seats.

Capacity lives in `appointment_seats`: one row per (resource, grid cell) with the pair as the
primary key, so PostgreSQL itself refuses a second booking of the same window at the same time.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    SmallInteger,
    String,
    Time,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, Timestamped

BOOKING_STATUSES = ("booked", "cancelled", "attended", "no_show")
FORMS = ("in_person", "phone", "video")
KINDS = ("appointment", "consultation")
CHANNELS = ("operator", "ivr", "api")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{value}'" for value in values) + ")"


class AppointmentOffice(Timestamped, Base):
    """An office (directory agency) that takes bookings: its grid and outside system, if any."""

    __tablename__ = "appointment_offices"
    __table_args__ = (CheckConstraint("slot_minutes BETWEEN 5 AND 120", name="slot_range"),)

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True
    )
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=15)
    external_url: Mapped[str | None] = mapped_column(String(500))


class ServiceDuration(Base):
    """How long one visit for a service takes at an office; only such services are bookable."""

    __tablename__ = "appointment_durations"
    __table_args__ = (CheckConstraint("minutes BETWEEN 5 AND 480", name="minutes_range"),)

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_offices.agency_id", ondelete="CASCADE"), primary_key=True
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class ScheduleException(Base):
    """A date whose booking hours differ from the weekly ones; no hours means closed."""

    __tablename__ = "appointment_exceptions"
    __table_args__ = (
        CheckConstraint("(opens IS NULL) = (closes IS NULL)", name="both_or_none"),
        CheckConstraint("opens IS NULL OR opens < closes", name="opens_before_closes"),
    )

    agency_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_offices.agency_id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    opens: Mapped[dt.time | None] = mapped_column(Time)
    closes: Mapped[dt.time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class Resource(Base):
    """What serves one visit at a time: a service window, or a specialist for consultations.

    Rows are deactivated, never deleted, so past bookings keep pointing at them."""

    __tablename__ = "appointment_resources"
    __table_args__ = (
        CheckConstraint("kind IN ('window', 'specialist')", name="kind_known"),
        Index("uq_appointment_resources_label", "agency_id", "kind", "label", unique=True),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_offices.agency_id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    label: Mapped[str] = mapped_column(String(200), nullable=False)
    position: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Booking(Timestamped, Base):
    """One appointment or consultation. Citizen fields are personal data: masked in logs,
    returned only to roles that need them, every staff read audited."""

    __tablename__ = "appointment_bookings"
    __table_args__ = (
        CheckConstraint(_in("status", BOOKING_STATUSES), name="status_known"),
        CheckConstraint(_in("form", FORMS), name="form_known"),
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        CheckConstraint("code ~ '^[0-9]{6}$'", name="code_digits"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint(
            "(citizen_name IS NULL AND citizen_phone IS NULL AND citizen_email IS NULL)"
            " OR consent_at IS NOT NULL",
            name="personal_data_needs_consent",
        ),
        # A caller's code names one active booking; freed again once it is over or cancelled.
        Index(
            "uq_appointment_bookings_active_code",
            "code",
            unique=True,
            postgresql_where=text("status = 'booked'"),
        ),
        Index("ix_appointment_bookings_office_day", "agency_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(6), nullable=False)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_offices.agency_id", ondelete="RESTRICT"), nullable=False
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("services.id", ondelete="RESTRICT"), nullable=False
    )
    resource_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointment_resources.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="appointment")
    form: Mapped[str] = mapped_column(String(16), nullable=False, default="in_person")
    channel: Mapped[str] = mapped_column(String(16), nullable=False, default="operator")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="booked")
    starts_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    citizen_name: Mapped[str | None] = mapped_column(String(200))
    citizen_phone: Mapped[str | None] = mapped_column(String(40))
    citizen_email: Mapped[str | None] = mapped_column(String(254))
    consent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    external_ref: Mapped[str | None] = mapped_column(String(100))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sms_reminder_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    email_reminder_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    followup_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Seat(Base):
    """One grid cell of one resource held by a booking; the primary key is the capacity rule."""

    __tablename__ = "appointment_seats"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_resources.id", ondelete="CASCADE"), primary_key=True
    )
    cell_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("appointment_bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )
