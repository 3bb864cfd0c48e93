"""complaints: complaints, timelines, delivery preferences, outbox

Revision ID: 0005_complaints
Revises: 0002_knowledge
Create Date: 2026-11-30 12:20:00

Branches off the knowledge revision: the outbox also carries knowledge notices.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_complaints"
down_revision: str | None = "0002_knowledge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "complaint_channels",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("ack_hours", sa.SmallInteger(), nullable=True),
        sa.Column("answer_days", sa.SmallInteger(), nullable=True),
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
            "channel <> 'email' OR email IS NOT NULL",
            name=op.f("ck_complaint_channels_email_complete"),
        ),
        sa.CheckConstraint(
            "channel <> 'webhook' OR (webhook_url IS NOT NULL AND webhook_secret IS NOT NULL)",
            name=op.f("ck_complaint_channels_webhook_complete"),
        ),
        sa.CheckConstraint(
            "channel IN ('webhook', 'email', 'inbox')",
            name=op.f("ck_complaint_channels_channel_known"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_complaint_channels_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agency_id", name=op.f("pk_complaint_channels")),
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("number", sa.String(length=12), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("municipality_id", sa.Integer(), nullable=True),
        sa.Column("agency_chosen_by", sa.String(length=16), nullable=False),
        sa.Column("citizen_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recording", sa.String(length=200), nullable=True),
        sa.Column("ack_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ack_overdue", sa.Boolean(), nullable=False),
        sa.Column("answer_overdue", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
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
            "source IN ('call', 'voicemail', 'api')", name=op.f("ck_complaints_source_known")
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'forwarded', 'delivered', 'acknowledged', 'answered', 'closed')",
            name=op.f("ck_complaints_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_complaints_agency_id_agencies"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_complaints_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["municipality_id"],
            ["municipalities.id"],
            name=op.f("fk_complaints_municipality_id_municipalities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_complaints_service_id_services"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_complaints_idempotency_key")),
        sa.UniqueConstraint("number", name=op.f("uq_complaints_number")),
    )
    op.create_index(
        "ix_complaints_agency_status", "complaints", ["agency_id", "status"], unique=False
    )
    op.create_index(
        "ix_complaints_open_due",
        "complaints",
        ["answer_due"],
        unique=False,
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "event IN ('registered', 'forwarded', 'delivered', 'acknowledged', 'answered', 'closed', 'overdue', 'redirected', 'delivery_failed')",
            name=op.f("ck_complaint_events_event_known"),
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
    )
    op.create_index(
        op.f("ix_complaint_events_complaint_id"), "complaint_events", ["complaint_id"], unique=False
    )
    op.create_table(
        "complaint_outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("notice_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(kind = 'complaint') = (complaint_id IS NOT NULL) AND (kind = 'notice') = (notice_id IS NOT NULL)",
            name=op.f("ck_complaint_outbox_one_subject"),
        ),
        sa.CheckConstraint(
            "channel IN ('webhook', 'email')", name=op.f("ck_complaint_outbox_channel_known")
        ),
        sa.CheckConstraint(
            "kind IN ('complaint', 'notice')", name=op.f("ck_complaint_outbox_kind_known")
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'dead')",
            name=op.f("ck_complaint_outbox_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_complaint_outbox_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_outbox_complaint_id_complaints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["knowledge_notices.id"],
            name=op.f("fk_complaint_outbox_notice_id_knowledge_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_complaint_outbox_idempotency_key")),
    )
    op.create_index(
        op.f("ix_complaint_outbox_complaint_id"), "complaint_outbox", ["complaint_id"], unique=False
    )
    op.create_index(
        "ix_complaint_outbox_due",
        "complaint_outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "uq_complaint_outbox_notice",
        "complaint_outbox",
        ["notice_id"],
        unique=True,
        postgresql_where=sa.text("notice_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_complaint_outbox_notice",
        table_name="complaint_outbox",
        postgresql_where=sa.text("notice_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_complaint_outbox_due",
        table_name="complaint_outbox",
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.drop_index(op.f("ix_complaint_outbox_complaint_id"), table_name="complaint_outbox")
    op.drop_table("complaint_outbox")
    op.drop_index(op.f("ix_complaint_events_complaint_id"), table_name="complaint_events")
    op.drop_table("complaint_events")
    op.drop_index(
        "ix_complaints_open_due",
        table_name="complaints",
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.drop_index("ix_complaints_agency_status", table_name="complaints")
    op.drop_table("complaints")
    op.drop_table("complaint_channels")
