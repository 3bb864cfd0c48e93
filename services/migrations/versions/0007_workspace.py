"""workspace: operator seats at the router, the consultation journal

Revision ID: 0007_workspace
Revises: 0001
Create Date: 2026-11-30 14:40:00

Branches off the foundation revision: it refers only to staff users.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_workspace"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "operator_seats",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("skills", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("languages", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_operator_seats_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_operator_seats")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_operator_seats_agent_id")),
    )
    op.create_table(
        "consultation_journal",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("wishes", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("follow_up", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["users.id"],
            name=op.f("fk_consultation_journal_operator_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_journal")),
    )
    op.create_index(op.f("ix_consultation_journal_at"), "consultation_journal", ["at"])
    op.create_index(op.f("ix_consultation_journal_call_id"), "consultation_journal", ["call_id"])
    op.create_index(
        op.f("ix_consultation_journal_operator_id"), "consultation_journal", ["operator_id"]
    )


def downgrade() -> None:
    op.drop_table("consultation_journal")
    op.drop_table("operator_seats")
