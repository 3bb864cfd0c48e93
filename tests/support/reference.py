"""Where Asterisk's own reference material lives (API description, recorded traces).

It is never copied into this repository: CI lays the project's `shared/` folder beside the
clone, so it is `<repo>/../shared/asterisk`; `OKNO_ASTERISK_REFERENCE` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def asterisk_reference() -> Path:
    """The folder holding `ari-api-docs/` and `traces/`."""
    configured = os.environ.get("OKNO_ASTERISK_REFERENCE")
    folder = Path(configured) if configured else REPO.parent / "shared" / "asterisk"
    if not (folder / "traces").is_dir():
        raise FileNotFoundError(
            f"Asterisk reference material not found in {folder}; "
            "set OKNO_ASTERISK_REFERENCE to the folder holding ari-api-docs/ and traces/"
        )
    return folder
