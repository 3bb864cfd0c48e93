"""Reading directory files (JSON, CSV) into the import model; errors name the row and field."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from pydantic import ValidationError

from services.common.problems import InvalidInput
from services.directory.hours import WEEKDAYS
from services.directory.schemas import DirectoryFile

CSV_COLUMNS = (
    "code", "name", "kind", "municipality", "address", "phones", "email", "website",
    "services", "hours", "holidays",
)  # fmt: skip
_SPAN = re.compile(r"^(\d{2}:\d{2})-(\d{2}:\d{2})(?:/(\d{2}:\d{2})-(\d{2}:\d{2}))?$")


def _problem(errors: list[dict[str, str]]) -> InvalidInput:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidInput(f"{first['field']}: {first['message']}{more}", errors=errors)


def _validation_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    return [
        {"field": prefix + ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors()
    ]


def parse_json(raw: bytes) -> DirectoryFile:
    """The JSON format (see services/directory/demo/agencies.json)."""
    try:
        return DirectoryFile.model_validate_json(raw)
    except ValidationError as exc:
        raise _problem(_validation_errors(exc)) from exc


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _hours(value: str) -> dict[str, list[dict[str, str | None]]]:
    """`mon=08:00-20:00;tue=09:00-18:00/13:00-14:00;...;sun=` — "/" marks the break,
    "," separates several periods of one day, an empty value is a closed day."""
    week: dict[str, list[dict[str, str | None]]] = {}
    for part in _split(value):
        day, _, spans = part.partition("=")
        day = day.strip().lower()
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}")
        week[day] = []
        for span in filter(None, (s.strip() for s in spans.split(","))):
            match = _SPAN.match(span)
            if not match:
                raise ValueError(f"cannot read {span!r}; expected HH:MM-HH:MM[/HH:MM-HH:MM]")
            opens, closes, break_start, break_end = match.groups()
            week[day].append(
                {"open": opens, "close": closes, "break_start": break_start, "break_end": break_end}
            )
    return week


def parse_csv(raw: bytes) -> DirectoryFile:
    """The CSV format: one office a row; services must already exist or come in a JSON file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput("The CSV file is not UTF-8") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise InvalidInput(f"Missing CSV columns: {', '.join(missing)}", columns=missing)
    agencies: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for line, row in enumerate(reader, start=2):
        try:
            hours = _hours(row["hours"] or "")
        except ValueError as exc:
            errors.append({"field": f"line {line}: hours", "message": str(exc)})
            continue
        agencies.append(
            {
                "code": row["code"],
                "name": row["name"],
                "kind": row["kind"],
                "municipality": row["municipality"],
                "address": row["address"],
                "phones": _split(row["phones"] or ""),
                "email": row["email"] or None,
                "website": row["website"] or None,
                "services": _split(row["services"] or ""),
                "hours": hours,
                "holidays": _split(row["holidays"] or ""),
            }
        )
    if errors:
        raise _problem(errors)
    try:
        return DirectoryFile.model_validate({"agencies": agencies})
    except ValidationError as exc:
        # loc is ("agencies", index, field...): report the CSV line instead of the index.
        located = [
            {
                "field": f"line {int(err['loc'][1]) + 2}: "
                + ".".join(str(p) for p in err["loc"][2:]),
                "message": err["msg"],
            }
            for err in exc.errors()
        ]
        raise _problem(located) from exc


def parse_file(raw: bytes, *, filename: str) -> DirectoryFile:
    """Pick the format by extension (.json or .csv)."""
    lowered = filename.lower()
    if lowered.endswith(".json"):
        return parse_json(raw)
    if lowered.endswith(".csv"):
        return parse_csv(raw)
    raise InvalidInput(f"Unsupported file type {filename!r}: use .json or .csv")
