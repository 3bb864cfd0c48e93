"""Sample knowledge content for `okno demo` and the tests: catalogue, FAQ, scripts, synonyms.

The FAQ files group entries by topic and service to stay readable; they are turned into the
ordinary import format here, so the demo goes through the same import as an operator's file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.knowledge.exchange import import_bundle
from services.knowledge.models import CatalogueEntry
from services.knowledge.schemas import ImportReport, KnowledgeFile

DEMO_DIR = Path(__file__).resolve().parent / "demo"
SAMPLE_NOTE = "Образец: вымышленные данные для демонстрации, не использовать для справок"


def _faq_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "topic": data["topic"],
            "service_code": group.get("service"),
            "municipality": entry.get("municipality"),
            "question": entry["q"],
            "answer": entry["a"],
            "spoken": entry["s"],
            "status": "published",
            "sample_data": True,
        }
        for group in data["groups"]
        for entry in group["entries"]
    ]


def demo_bundle(folder: Path = DEMO_DIR) -> KnowledgeFile:
    """Every sample file of the folder as one import bundle, marked as sample data."""

    def load(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        return loaded

    faq = [
        item for path in sorted(folder.glob("faq_*.yaml")) for item in _faq_items(load(path.name))
    ]
    return KnowledgeFile.model_validate(
        {
            "sample_data": True,
            "note": SAMPLE_NOTE,
            "catalogue": load("catalogue.yaml")["catalogue"],
            "faq": faq,
            "scripts": load("scripts.yaml")["scripts"],
            "synonyms": load("synonyms.yaml")["synonyms"],
        }
    )


async def seed_knowledge(session: AsyncSession) -> ImportReport | None:
    """Import the sample content unless the catalogue already has entries (needs the directory)."""
    if await session.scalar(select(func.count()).select_from(CatalogueEntry)):
        return None
    return await import_bundle(
        session, demo_bundle(), actor="okno-demo", actor_id=None, now=dt.datetime.now(dt.UTC)
    )
