"""call records: calls and their timeline

Revision ID: 0004_calls
Revises: 0001
Create Date: 2026-11-30 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_calls"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("centre", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("did", sa.String(length=32), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("offers", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("hangup_side", sa.String(length=16), nullable=True),
        sa.Column("expected_wait_seconds", sa.Float(), nullable=True),
        sa.Column("wait_seconds", sa.Float(), nullable=True),
        sa.Column("talk_seconds", sa.Float(), nullable=True),
        sa.Column("overflowed_to", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("centre", "call_id", name=op.f("pk_calls")),
    )
    op.create_index(op.f("ix_calls_arrived_at"), "calls", ["arrived_at"], unique=False)
    op.create_index(op.f("ix_calls_agent_id"), "calls", ["agent_id"], unique=False)
    op.create_table(
        "call_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("centre", sa.String(length=32), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("source_entry", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre", "call_id"],
            ["calls.centre", "calls.call_id"],
            name="fk_call_events_call_calls",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_events")),
        sa.UniqueConstraint("centre", "source_entry", "position", name="uq_call_events_source"),
    )
    op.create_index(
        "ix_call_events_centre_call_id", "call_events", ["centre", "call_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_call_events_centre_call_id", table_name="call_events")
    op.drop_table("call_events")
    op.drop_index(op.f("ix_calls_agent_id"), table_name="calls")
    op.drop_index(op.f("ix_calls_arrived_at"), table_name="calls")
    op.drop_table("calls")
