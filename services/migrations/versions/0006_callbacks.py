"""callbacks: callback requests and their dialling attempts

Revision ID: 0006_callbacks
Revises: 0001
Create Date: 2026-11-30 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_callbacks"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("centre", sa.String(length=32), nullable=False),
        sa.Column("callback_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promised_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_dialled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_result", sa.String(length=16), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=True),
        sa.Column("call_id", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("variables", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("merged_into", sa.String(length=128), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("last_entry", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("centre", "callback_id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("centre", "idempotency_key", name="uq_callbacks_idempotency_key"),
    )
    op.create_index(
        "ix_callbacks_centre_status_requested_at",
        "callbacks",
        ["centre", "status", "requested_at"],
        unique=False,
    )
    op.create_index("ix_callbacks_centre_caller", "callbacks", ["centre", "caller"], unique=False)
    op.create_index(
        "ix_callbacks_centre_agent_id", "callbacks", ["centre", "agent_id"], unique=False
    )
    op.create_index(
        "ix_callbacks_centre_promised_by", "callbacks", ["centre", "promised_by"], unique=False
    )
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("centre", sa.String(length=32), nullable=False),
        sa.Column("callback_id", sa.String(length=128), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_entry", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre", "callback_id"],
            ["callbacks.centre", "callbacks.callback_id"],
            name="fk_callback_attempts_callback_callbacks",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
        sa.UniqueConstraint(
            "centre", "callback_id", "source_entry", name="uq_callback_attempts_source"
        ),
    )


def downgrade() -> None:
    op.drop_table("callback_attempts")
    op.drop_index("ix_callbacks_centre_promised_by", table_name="callbacks")
    op.drop_index("ix_callbacks_centre_agent_id", table_name="callbacks")
    op.drop_index("ix_callbacks_centre_caller", table_name="callbacks")
    op.drop_index("ix_callbacks_centre_status_requested_at", table_name="callbacks")
    op.drop_table("callbacks")
