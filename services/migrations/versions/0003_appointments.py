"""appointments: schedules, bookings, seats

Revision ID: 0003_appointments
Revises: 0001
Create Date: 2026-11-30 11:54:01.036581
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_appointments"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_offices",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.SmallInteger(), nullable=False),
        sa.Column("external_url", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 120", name=op.f("ck_appointment_offices_slot_range")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_appointment_offices_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_appointment_offices")),
    )
    op.create_table(
        "appointment_durations",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "minutes BETWEEN 5 AND 480", name=op.f("ck_appointment_durations_minutes_range")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["appointment_offices.agency_id"],
            name=op.f("fk_appointment_durations_agency_id_appointment_offices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_appointment_durations_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", "service_id", name=op.f("pk_appointment_durations")),
    )
    op.create_index(
        op.f("ix_appointment_durations_service_id"),
        "appointment_durations",
        ["service_id"],
        unique=False,
    )
    op.create_table(
        "appointment_exceptions",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("opens", sa.Time(), nullable=True),
        sa.Column("closes", sa.Time(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "(opens IS NULL) = (closes IS NULL)",
            name=op.f("ck_appointment_exceptions_both_or_none"),
        ),
        sa.CheckConstraint(
            "opens IS NULL OR opens < closes",
            name=op.f("ck_appointment_exceptions_opens_before_closes"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["appointment_offices.agency_id"],
            name=op.f("fk_appointment_exceptions_agency_id_appointment_offices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", "day", name=op.f("pk_appointment_exceptions")),
    )
    op.create_table(
        "appointment_resources",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('window', 'specialist')", name=op.f("ck_appointment_resources_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["appointment_offices.agency_id"],
            name=op.f("fk_appointment_resources_agency_id_appointment_offices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_resources")),
    )
    op.create_index(
        "uq_appointment_resources_label",
        "appointment_resources",
        ["agency_id", "kind", "label"],
        unique=True,
    )
    op.create_table(
        "appointment_bookings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("citizen_name", sa.String(length=200), nullable=True),
        sa.Column("citizen_phone", sa.String(length=40), nullable=True),
        sa.Column("citizen_email", sa.String(length=254), nullable=True),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("external_ref", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sms_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("email_reminder_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("followup_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "channel IN ('operator', 'ivr', 'api')",
            name=op.f("ck_appointment_bookings_channel_known"),
        ),
        sa.CheckConstraint("code ~ '^[0-9]{6}$'", name=op.f("ck_appointment_bookings_code_digits")),
        sa.CheckConstraint(
            "form IN ('in_person', 'phone', 'video')",
            name=op.f("ck_appointment_bookings_form_known"),
        ),
        sa.CheckConstraint(
            "kind IN ('appointment', 'consultation')",
            name=op.f("ck_appointment_bookings_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('booked', 'cancelled', 'attended', 'no_show')",
            name=op.f("ck_appointment_bookings_status_known"),
        ),
        sa.CheckConstraint(
            "(citizen_name IS NULL AND citizen_phone IS NULL AND citizen_email IS NULL) OR consent_at IS NOT NULL",
            name=op.f("ck_appointment_bookings_personal_data_needs_consent"),
        ),
        sa.CheckConstraint(
            "starts_at < ends_at", name=op.f("ck_appointment_bookings_starts_before_ends")
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["appointment_offices.agency_id"],
            name=op.f("fk_appointment_bookings_agency_id_appointment_offices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_appointment_bookings_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["appointment_resources.id"],
            name=op.f("fk_appointment_bookings_resource_id_appointment_resources"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_appointment_bookings_service_id_services"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_bookings")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_appointment_bookings_idempotency_key")
        ),
    )
    op.create_index(
        "ix_appointment_bookings_office_day",
        "appointment_bookings",
        ["agency_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "uq_appointment_bookings_active_code",
        "appointment_bookings",
        ["code"],
        unique=True,
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.create_table(
        "appointment_seats",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("cell_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["appointment_bookings.id"],
            name=op.f("fk_appointment_seats_booking_id_appointment_bookings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_id"],
            ["appointment_resources.id"],
            name=op.f("fk_appointment_seats_resource_id_appointment_resources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("resource_id", "cell_start", name=op.f("pk_appointment_seats")),
    )
    op.create_index(
        op.f("ix_appointment_seats_booking_id"), "appointment_seats", ["booking_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_appointment_seats_booking_id"), table_name="appointment_seats")
    op.drop_table("appointment_seats")
    op.drop_index(
        "uq_appointment_bookings_active_code",
        table_name="appointment_bookings",
        postgresql_where=sa.text("status = 'booked'"),
    )
    op.drop_index("ix_appointment_bookings_office_day", table_name="appointment_bookings")
    op.drop_table("appointment_bookings")
    op.drop_index("uq_appointment_resources_label", table_name="appointment_resources")
    op.drop_table("appointment_resources")
    op.drop_table("appointment_exceptions")
    op.drop_index(op.f("ix_appointment_durations_service_id"), table_name="appointment_durations")
    op.drop_table("appointment_durations")
    op.drop_table("appointment_offices")
