"""The Russian names of menu variables for the call card, from the flows the bridge runs."""

from __future__ import annotations

from pathlib import Path

import structlog

from ari_bridge.process import load_bridge_config
from services.common.errors import StartupError
from services.common.settings import Settings
from services.ivr.labels import BUILT_IN, variable_labels
from services.ivr.schema import FlowError, load_library

_log = structlog.get_logger(__name__)


def labels(settings: Settings) -> dict[str, str]:
    """Labels of the flows in the bridge's `ivr_folder`, read once per process and bridge
    configuration (as the bridge loads its flows once, at start); the built-in names only
    (and one warning) if the flows cannot be read here, so the card still shows every choice."""
    key = (settings.bridge_config, settings.centre_id)
    if key not in _LOADED:
        _LOADED[key] = _load(settings)
    return _LOADED[key]


_LOADED: dict[tuple[Path | None, str], dict[str, str]] = {}


def _load(settings: Settings) -> dict[str, str]:
    try:
        folder = load_bridge_config(settings).ivr_folder
        return variable_labels(load_library(folder.resolve()))
    except (StartupError, FlowError, OSError) as exc:
        _log.warning("menu labels unavailable", error=str(exc))
        return dict(BUILT_IN)


def named(variables: dict[str, str], names: dict[str, str]) -> list[tuple[str, str, str]]:
    """The card's rows, ``(variable, Russian name, value)``, in the order the caller went
    through the menu; a variable no node names keeps its own name."""
    return [(key, names.get(key, key), value) for key, value in variables.items()]
