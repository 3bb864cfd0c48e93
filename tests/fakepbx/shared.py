"""The recorded Asterisk material (found by ``tests.support.reference``) as the fake's tests
read it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.reference import asterisk_reference

SHARED = asterisk_reference()
TRACES = SHARED / "traces"
API_DOCS = SHARED / "ari-api-docs"

FLOWS = sorted(p.name.removesuffix(".ari.jsonl") for p in TRACES.glob("*.ari.jsonl"))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def api_docs() -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in API_DOCS.glob("*.json")}
