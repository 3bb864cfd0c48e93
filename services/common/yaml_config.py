"""Reading a process's YAML configuration file into a pydantic model, with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from services.common.errors import StartupError

M = TypeVar("M", bound=BaseModel)


def load_yaml_model(path: Path | None, model: type[M], **defaults: Any) -> M:
    """The model from `path` (over `defaults`), or from `defaults` alone when no file is set.

    A missing file, bad YAML or an invalid field stops the process with one line naming the
    file and the field.
    """
    if path is None:
        return model.model_validate(defaults)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise StartupError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise StartupError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate({**defaults, **data})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise StartupError(f"{path}: {problems}") from exc
