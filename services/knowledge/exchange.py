"""Import and export of knowledge content: JSON and YAML bundles, CSV for FAQ and catalogue.

An import runs in the caller's transaction: one bad row rejects the whole file, and the error
names the row and field."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any, Literal

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.audit import record_audit
from services.common.problems import InvalidInput
from services.knowledge import catalogue, faq, scripts, synonyms
from services.knowledge.models import CallScript, CatalogueEntry, FaqEntry, SynonymGroup
from services.knowledge.schemas import (
    CatalogueIn,
    CatalogueSave,
    FaqImport,
    FaqIn,
    ImportReport,
    KnowledgeFile,
    ScriptIn,
)

Format = Literal["json", "yaml", "csv"]
CsvPart = Literal["faq", "catalogue"]
FAQ_COLUMNS = ("topic", "service_code", "municipality", "question", "answer", "spoken", "status")
CATALOGUE_COLUMNS = tuple(name for name in CatalogueIn.model_fields if name != "sample_data")
_LIST_SEPARATOR = "\n"


def _problem(exc: ValidationError, prefix: str = "") -> InvalidInput:
    errors = [
        {"field": prefix + ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(f"{errors[0]['field']}: {errors[0]['message']}{more}", errors=errors)


def _csv_rows(raw: bytes) -> list[dict[str, str]]:
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        return list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"Not a UTF-8 CSV file: {exc}", field="file") from exc


def _from_csv(raw: bytes) -> KnowledgeFile:
    rows = _csv_rows(raw)
    columns = set(rows[0]) if rows else set()
    bundle: dict[str, Any] = {"faq": [], "catalogue": []}
    for number, row in enumerate(rows, start=2):
        values = {k: (v or "").strip() for k, v in row.items() if k}
        try:
            if {"question", "answer"} <= columns:
                faq_row = {k: values.get(k) or None for k in FAQ_COLUMNS}
                faq_row["status"] = faq_row["status"] or "draft"
                bundle["faq"].append(FaqImport.model_validate(faq_row))
            elif {"code", "description"} <= columns:
                entry: dict[str, Any] = {k: values.get(k, "") for k in CATALOGUE_COLUMNS}
                entry["documents"] = [
                    d.strip() for d in entry["documents"].split(_LIST_SEPARATOR) if d.strip()
                ]
                entry["responsible_agency_code"] = entry["responsible_agency_code"] or None
                bundle["catalogue"].append(CatalogueIn.model_validate(entry))
            else:
                raise InvalidInput(
                    "The CSV header must have FAQ columns (question, answer, …) "
                    "or catalogue columns (code, description, …)",
                    field="file",
                )
        except ValidationError as exc:
            raise _problem(exc, prefix=f"row {number}: ") from exc
    return KnowledgeFile.model_validate(bundle)


def parse_file(raw: bytes, *, filename: str) -> KnowledgeFile:
    """Read a file by its extension: .json, .yaml/.yml or .csv."""
    name = filename.lower()
    if name.endswith(".csv"):
        return _from_csv(raw)
    try:
        if name.endswith((".yaml", ".yml")):
            data = yaml.safe_load(raw.decode("utf-8"))
        elif name.endswith(".json"):
            data = json.loads(raw)
        else:
            raise InvalidInput("Use a .json, .yaml, .yml or .csv file", field="file")
    except (UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise InvalidInput(f"The file cannot be read: {exc}", field="file") from exc
    try:
        return KnowledgeFile.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc) from exc


async def import_bundle(
    session: AsyncSession,
    data: KnowledgeFile,
    *,
    actor: str,
    actor_id: int | None,
    now: dt.datetime,
) -> ImportReport:
    """Catalogue first (FAQ and scripts refer to it), then FAQ, scripts and synonyms."""
    report = ImportReport()
    for item in data.catalogue:
        save = CatalogueSave(**item.model_dump(), note="import")
        if data.sample_data:
            save.sample_data = True
        _entry, outcome = await catalogue.save_entry(
            session, save, actor=actor, actor_id=actor_id, now=now
        )
        setattr(report, f"catalogue_{outcome}", getattr(report, f"catalogue_{outcome}") + 1)
    rows = await session.execute(select(FaqEntry.topic, FaqEntry.question))
    existing: set[tuple[str, str]] = {(topic, question) for topic, question in rows}
    for entry in data.faq:
        if (entry.topic, entry.question) in existing:
            report.faq_skipped += 1
            continue
        body = entry.model_dump(exclude={"status"})
        body["sample_data"] = entry.sample_data or data.sample_data
        await faq.create_entry(
            session, FaqIn(**body), actor=actor, actor_id=actor_id, now=now, status=entry.status
        )
        existing.add((entry.topic, entry.question))
        report.faq_created += 1
    for script in data.scripts:
        if data.sample_data:
            script = script.model_copy(update={"sample_data": True})
        await scripts.save_script(session, script, actor=actor, actor_id=actor_id, now=now)
        report.scripts_saved += 1
    known = {tuple(group.terms) for group in await synonyms.list_groups(session)}
    for terms in data.synonyms:
        if tuple(synonyms.normalised(terms)) not in known:
            await synonyms.save_group(session, terms, sample_data=data.sample_data)
            report.synonym_groups += 1
    await record_audit(
        session,
        actor=actor,
        actor_id=actor_id,
        action="knowledge.import",
        subject_type="knowledge",
        details=report.model_dump(),
    )
    return report


async def export_bundle(session: AsyncSession) -> KnowledgeFile:
    """Everything the service holds, drafts included, in the import format."""
    entries = await session.scalars(select(CatalogueEntry).order_by(CatalogueEntry.code))
    faqs = await session.scalars(select(FaqEntry).order_by(FaqEntry.id))
    all_scripts = await session.scalars(select(CallScript).order_by(CallScript.code))
    groups = await session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))
    return KnowledgeFile(
        catalogue=[CatalogueIn.model_validate(catalogue.content_of(e)) for e in entries],
        faq=[FaqImport.model_validate(f, from_attributes=True) for f in faqs],
        scripts=[ScriptIn.model_validate(s, from_attributes=True) for s in all_scripts],
        synonyms=[list(g.terms) for g in groups],
    )


def render(bundle: KnowledgeFile, fmt: Format, part: CsvPart) -> tuple[str, str]:
    """The export as text and its media type."""
    data = bundle.model_dump(mode="json")
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2), "application/json"
    if fmt == "yaml":
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "application/yaml"
    out = io.StringIO()
    columns = FAQ_COLUMNS if part == "faq" else CATALOGUE_COLUMNS
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in data[part]:
        if part == "catalogue":
            row["documents"] = _LIST_SEPARATOR.join(row["documents"])
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return out.getvalue(), "text/csv; charset=utf-8"
