"""The Russian names of menu variables for the call card, from the flows the bridge runs."""

from __future__ import annotations

import functools
from pathlib import Path

import structlog

from ari_bridge.process import load_bridge_config
from services.common.errors import StartupError
from services.common.settings import Settings
from services.ivr.labels import BUILT_IN, variable_labels
from services.ivr.schema import FlowError, load_library

_log = structlog.get_logger(__name__)


def labels(settings: Settings) -> dict[str, str]:
    """Labels of the flows in the bridge's `ivr_folder`; the built-in names only (and a
    warning) if the flows cannot be read here, so the card still shows every choice."""
    try:
        folder = load_bridge_config(settings).ivr_folder
    except StartupError as exc:
        _log.warning("menu labels unavailable", error=str(exc))
        return dict(BUILT_IN)
    return _labels_of(folder.resolve())


@functools.cache
def _labels_of(folder: Path) -> dict[str, str]:
    try:
        return variable_labels(load_library(folder))
    except (FlowError, OSError) as exc:
        _log.warning("menu labels unavailable", folder=str(folder), error=str(exc))
        return dict(BUILT_IN)


def named(variables: dict[str, str], names: dict[str, str]) -> list[tuple[str, str, str]]:
    """The card's rows, ``(variable, Russian name, value)``, in the order the caller went
    through the menu; a variable no node names keeps its own name."""
    return [(key, names.get(key, key), value) for key, value in variables.items()]
