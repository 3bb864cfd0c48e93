"""A small validator for the Swagger 1.1 models of ari-api-docs (required fields, types,
enums, no undeclared fields) and the list of documented routes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tests.fakepbx.shared import api_docs

_PRIMITIVES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "int": (int,),
    "long": (int,),
    "double": (int, float),
    "boolean": (bool,),
    "object": (dict,),
}


class Models:
    def __init__(self) -> None:
        self.models: dict[str, dict[str, Any]] = {}
        for doc in api_docs().values():
            self.models.update(doc.get("models", {}))

    def properties(self, name: str) -> dict[str, dict[str, Any]]:
        """A model's own properties plus those of the models it extends (Event, Message)."""
        props = dict(self.models[name]["properties"])
        for parent, model in self.models.items():
            if name in model.get("subTypes", []):
                props.update(self.properties(parent))
        return props

    def validate(self, value: Any, type_name: str, where: str = "$") -> list[str]:
        list_match = re.fullmatch(r"List\[(.+)\]", type_name)
        if list_match:
            if not isinstance(value, list):
                return [f"{where}: expected a list"]
            return [
                e
                for i, v in enumerate(value)
                for e in self.validate(v, list_match[1], f"{where}[{i}]")
            ]
        if type_name == "Date":
            try:
                datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
            except (TypeError, ValueError):
                return [f"{where}: not an ARI date: {value!r}"]
            return []
        if type_name in _PRIMITIVES:
            ok = isinstance(value, _PRIMITIVES[type_name]) and not (
                type_name != "boolean" and isinstance(value, bool)
            )
            return [] if ok else [f"{where}: expected {type_name}, got {value!r}"]
        if not isinstance(value, dict):
            return [f"{where}: expected {type_name} object"]
        props = self.properties(type_name)
        errors = [f"{where}.{k}: not declared in {type_name}" for k in value if k not in props]
        for key, spec in props.items():
            if key not in value:
                if spec.get("required"):
                    errors.append(f"{where}.{key}: required by {type_name}")
                continue
            errors += self.validate(value[key], spec["type"], f"{where}.{key}")
            allowed = spec.get("allowableValues", {}).get("values")
            if allowed and value[key] not in allowed:
                errors.append(f"{where}.{key}: {value[key]!r} not in {allowed}")
        return errors

    def validate_event(self, event: dict[str, Any]) -> list[str]:
        if event.get("type") not in self.models:
            return [f"unknown event type {event.get('type')!r}"]
        return self.validate(event, event["type"])


def documented_routes() -> set[tuple[str, str]]:
    """(METHOD, /ari/path/{}) for every operation in the description."""
    routes = set()
    for doc in api_docs().values():
        for api in doc.get("apis", []):
            path = "/ari" + re.sub(r"\{[^}]+\}", "{}", api["path"])
            for operation in api.get("operations", []):
                routes.add((operation["httpMethod"], path))
    return routes
