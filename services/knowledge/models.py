"""Tables of the knowledge service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from services.common.db import Base, Timestamped

FAQ_STATUSES = ("draft", "review", "published", "archived")
NOTICE_STATUSES = ("open", "in_progress", "resolved", "dismissed")
NOTICE_SUBJECTS = ("catalogue", "faq", "agency")

# Question weighs more than answer; "ё" is folded to "е" so either spelling finds the other.
FAQ_SEARCH_VECTOR = (
    "setweight(to_tsvector('russian'::regconfig, translate(question, 'Ёё', 'Ее')), 'A') || "
    "setweight(to_tsvector('russian'::regconfig, translate(answer, 'Ёё', 'Ее')), 'B')"
)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class CatalogueEntry(Timestamped, Base):
    """The current version of a service's catalogue entry (R9); the directory's `services` row
    with the same code says which offices provide it."""

    __tablename__ = "knowledge_catalogue"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(
        ForeignKey("services.code", ondelete="CASCADE", onupdate="CASCADE"),
        nullable=False,
        unique=True,
    )
    name: Mapped[str] = mapped_column(String(300), nullable=False)
    topic: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    applicants: Mapped[str] = mapped_column(Text, nullable=False)
    terms: Mapped[str] = mapped_column(Text, nullable=False)
    documents: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    fee: Mapped[str] = mapped_column(Text, nullable=False)
    result: Mapped[str] = mapped_column(Text, nullable=False)
    responsible_agency: Mapped[str] = mapped_column(Text, nullable=False)
    responsible_agency_code: Mapped[str | None] = mapped_column(
        ForeignKey("agencies.code", ondelete="SET NULL", onupdate="CASCADE")
    )
    officials: Mapped[str] = mapped_column(Text, nullable=False, default="")
    appeal: Mapped[str] = mapped_column(Text, nullable=False)
    sample_data: Mapped[bool] = mapped_column(nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_by: Mapped[str] = mapped_column(String(100), nullable=False)


class CatalogueVersion(Base):
    """One saved version of a catalogue entry: the full content, what changed, who and when."""

    __tablename__ = "knowledge_catalogue_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_knowledge_cat_version"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_catalogue.id", ondelete="CASCADE"), nullable=False
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(String(64)), nullable=False)
    changed_by: Mapped[str] = mapped_column(String(100), nullable=False)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class FaqEntry(Timestamped, Base):
    """A question and its answer, with a short spoken version for the voice menu."""

    __tablename__ = "knowledge_faq"
    __table_args__ = (
        CheckConstraint(_in("status", FAQ_STATUSES), name="status_known"),
        Index("ix_knowledge_faq_search", "search", postgresql_using="gin"),
        Index("ix_knowledge_faq_status_topic", "status", "topic"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(String(32), nullable=False)
    service_code: Mapped[str | None] = mapped_column(
        ForeignKey("services.code", ondelete="SET NULL", onupdate="CASCADE"), index=True
    )
    municipality: Mapped[str | None] = mapped_column(
        ForeignKey("municipalities.name", ondelete="CASCADE", onupdate="CASCADE")
    )
    question: Mapped[str] = mapped_column(Text, nullable=False)
    answer: Mapped[str] = mapped_column(Text, nullable=False)
    spoken: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    sample_data: Mapped[bool] = mapped_column(nullable=False, default=False)
    updated_by: Mapped[str] = mapped_column(String(100), nullable=False)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed(FAQ_SEARCH_VECTOR, persisted=True), nullable=False
    )


class FaqUsage(Base):
    """How often an answer was given, per caller group and day (R17: frequent questions)."""

    __tablename__ = "knowledge_faq_usage"

    faq_id: Mapped[int] = mapped_column(
        ForeignKey("knowledge_faq.id", ondelete="CASCADE"), primary_key=True
    )
    caller_group: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class SynonymGroup(Base):
    """Words and phrases a search treats as one (synonyms, word families the stemmer splits,
    common misspellings). `keys` holds the stems of the single-word members, for lookup."""

    __tablename__ = "knowledge_synonyms"
    __table_args__ = (Index("ix_knowledge_synonyms_keys", "keys", postgresql_using="gin"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    terms: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    keys: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    sample_data: Mapped[bool] = mapped_column(nullable=False, default=False)


class CallScript(Timestamped, Base):
    """A branching operator call script (R8), served as data the workspace renders."""

    __tablename__ = "knowledge_scripts"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    topic: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False)
    start: Mapped[str] = mapped_column(String(64), nullable=False)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    sample_data: Mapped[bool] = mapped_column(nullable=False, default=False)
    updated_by: Mapped[str] = mapped_column(String(100), nullable=False)


class Notice(Timestamped, Base):
    """A report that a catalogue entry, FAQ answer or directory record is wrong or outdated,
    addressed to the responsible agency and tracked until resolved."""

    __tablename__ = "knowledge_notices"
    __table_args__ = (
        CheckConstraint(_in("status", NOTICE_STATUSES), name="status_known"),
        CheckConstraint(_in("subject_type", NOTICE_SUBJECTS), name="subject_known"),
        Index("ix_knowledge_notices_subject", "subject_type", "subject_key", "status"),
        Index("ix_knowledge_notices_agency_status", "agency_id", "status"),
    )

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(16), nullable=False)
    subject_key: Mapped[str] = mapped_column(String(64), nullable=False)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("agencies.id", ondelete="CASCADE"), nullable=False
    )
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open")
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    forwarded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
