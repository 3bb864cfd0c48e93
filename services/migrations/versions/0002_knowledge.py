"""Knowledge service: catalogue with versions, FAQ with Russian full-text search, usage counts,
synonyms, call scripts and outdated-information notices.

Revision ID: 0002_knowledge
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_knowledge"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "knowledge_scripts",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("start", sa.String(length=64), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sample_data", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_scripts")),
        sa.UniqueConstraint("code", name=op.f("uq_knowledge_scripts_code")),
    )
    op.create_index(
        op.f("ix_knowledge_scripts_topic"), "knowledge_scripts", ["topic"], unique=False
    )
    op.create_table(
        "knowledge_synonyms",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("terms", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("keys", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("sample_data", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_synonyms")),
    )
    op.create_index(
        "ix_knowledge_synonyms_keys",
        "knowledge_synonyms",
        ["keys"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "knowledge_faq",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=True),
        sa.Column("municipality", sa.String(length=100), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("spoken", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sample_data", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('russian'::regconfig, translate(question, 'Ёё', 'Ее')), 'A') || setweight(to_tsvector('russian'::regconfig, translate(answer, 'Ёё', 'Ее')), 'B')",
                persisted=True,
            ),
            nullable=False,
        ),
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
            "status IN ('draft', 'review', 'published', 'archived')",
            name=op.f("ck_knowledge_faq_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["municipality"],
            ["municipalities.name"],
            name=op.f("fk_knowledge_faq_municipality_municipalities"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_code"],
            ["services.code"],
            name=op.f("fk_knowledge_faq_service_code_services"),
            onupdate="CASCADE",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_faq")),
    )
    op.create_index(
        "ix_knowledge_faq_search", "knowledge_faq", ["search"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        op.f("ix_knowledge_faq_service_code"), "knowledge_faq", ["service_code"], unique=False
    )
    op.create_index(
        "ix_knowledge_faq_status_topic", "knowledge_faq", ["status", "topic"], unique=False
    )
    op.create_table(
        "knowledge_catalogue",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("applicants", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("documents", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("fee", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("responsible_agency", sa.Text(), nullable=False),
        sa.Column("responsible_agency_code", sa.String(length=64), nullable=True),
        sa.Column("officials", sa.Text(), nullable=False),
        sa.Column("appeal", sa.Text(), nullable=False),
        sa.Column("sample_data", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
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
            ["code"],
            ["services.code"],
            name=op.f("fk_knowledge_catalogue_code_services"),
            onupdate="CASCADE",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["responsible_agency_code"],
            ["agencies.code"],
            name=op.f("fk_knowledge_catalogue_responsible_agency_code_agencies"),
            onupdate="CASCADE",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_catalogue")),
        sa.UniqueConstraint("code", name=op.f("uq_knowledge_catalogue_code")),
    )
    op.create_index(
        op.f("ix_knowledge_catalogue_topic"), "knowledge_catalogue", ["topic"], unique=False
    )
    op.create_table(
        "knowledge_faq_usage",
        sa.Column("faq_id", sa.Integer(), nullable=False),
        sa.Column("caller_group", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["faq_id"],
            ["knowledge_faq.id"],
            name=op.f("fk_knowledge_faq_usage_faq_id_knowledge_faq"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "faq_id", "caller_group", "day", name=op.f("pk_knowledge_faq_usage")
        ),
    )
    op.create_index(
        op.f("ix_knowledge_faq_usage_day"), "knowledge_faq_usage", ["day"], unique=False
    )
    op.create_table(
        "knowledge_catalogue_versions",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("changed_fields", postgresql.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("changed_by", sa.String(length=100), nullable=False),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_id"],
            ["users.id"],
            name=op.f("fk_knowledge_catalogue_versions_changed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["knowledge_catalogue.id"],
            name=op.f("fk_knowledge_catalogue_versions_entry_id_knowledge_catalogue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_catalogue_versions")),
        sa.UniqueConstraint("entry_id", "version", name="uq_knowledge_cat_version"),
    )
    op.create_table(
        "knowledge_notices",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('open', 'in_progress', 'resolved', 'dismissed')",
            name=op.f("ck_knowledge_notices_status_known"),
        ),
        sa.CheckConstraint(
            "subject_type IN ('catalogue', 'faq', 'agency')",
            name=op.f("ck_knowledge_notices_subject_known"),
        ),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agencies.id"],
            name=op.f("fk_knowledge_notices_agency_id_agencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_knowledge_notices_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_knowledge_notices")),
    )
    op.create_index(
        "ix_knowledge_notices_agency_status",
        "knowledge_notices",
        ["agency_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_knowledge_notices_subject",
        "knowledge_notices",
        ["subject_type", "subject_key", "status"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_knowledge_notices_subject", table_name="knowledge_notices")
    op.drop_index("ix_knowledge_notices_agency_status", table_name="knowledge_notices")
    op.drop_table("knowledge_notices")
    op.drop_table("knowledge_catalogue_versions")
    op.drop_index(op.f("ix_knowledge_faq_usage_day"), table_name="knowledge_faq_usage")
    op.drop_table("knowledge_faq_usage")
    op.drop_index(op.f("ix_knowledge_catalogue_topic"), table_name="knowledge_catalogue")
    op.drop_table("knowledge_catalogue")
    op.drop_index("ix_knowledge_faq_status_topic", table_name="knowledge_faq")
    op.drop_index(op.f("ix_knowledge_faq_service_code"), table_name="knowledge_faq")
    op.drop_index("ix_knowledge_faq_search", table_name="knowledge_faq", postgresql_using="gin")
    op.drop_table("knowledge_faq")
    op.drop_index(
        "ix_knowledge_synonyms_keys", table_name="knowledge_synonyms", postgresql_using="gin"
    )
    op.drop_table("knowledge_synonyms")
    op.drop_index(op.f("ix_knowledge_scripts_topic"), table_name="knowledge_scripts")
    op.drop_table("knowledge_scripts")
