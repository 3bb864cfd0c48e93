"""`okno prompts build`: the flows' Russian prompt texts as 8 kHz mono WAV files for Asterisk.

espeak-ng (Russian voice) speaks each text, sox converts it to 8 kHz, mono, 16-bit — the format
Asterisk plays without transcoding. A file is named by a hash of its text (`media.prompt_hash`),
so an unchanged prompt is never rebuilt and the engine knows every file name in advance; the
manifest maps ``flow/prompt`` ids to files for people and tools.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from services.ivr.media import prompt_hash
from services.ivr.schema import load_library

DEFAULT_OUT = Path(".okno/sounds/okno")
INSTALL_HINT = (
    "espeak-ng and sox are needed to synthesise the voice prompts; "
    "install them with: sudo apt-get install -y espeak-ng sox"
)
MANIFEST = "manifest.json"


class ToolsMissing(RuntimeError):
    """espeak-ng or sox is not installed; the message gives the apt command."""


@dataclass(frozen=True, slots=True)
class Voice:
    """The synthesiser's settings: a Russian voice at a calm telephone pace."""

    espeak: str
    sox: str
    voice: str = "ru"
    words_per_minute: int = 145

    @classmethod
    def find(cls) -> Voice:
        espeak, sox = shutil.which("espeak-ng"), shutil.which("sox")
        if espeak is None or sox is None:
            raise ToolsMissing(INSTALL_HINT)
        return cls(espeak=espeak, sox=sox)


@dataclass(slots=True)
class BuildReport:
    built: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def synthesise(text: str, target: Path, voice: Voice) -> None:
    """Speak ``text`` into ``target`` (8 kHz mono 16-bit WAV); the file appears atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        raw, telephone = Path(tmp) / "raw.wav", Path(tmp) / "8k.wav"
        _run(
            [voice.espeak, "-v", voice.voice, "-s", str(voice.words_per_minute), "-w", str(raw)],
            text,
        )
        _run(
            [voice.sox, str(raw), "-r", "8000", "-c", "1", "-b", "16", str(telephone), "norm", "-3"]
        )
        os.replace(telephone, target)


def _run(command: list[str], stdin: str | None = None) -> None:
    data = stdin.encode("utf-8") if stdin is not None else None
    result = subprocess.run(command, input=data, capture_output=True, timeout=120)
    if result.returncode != 0:
        error = result.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{Path(command[0]).name} failed ({result.returncode}): {error}")


def ensure_prompt(text: str, out_dir: Path, voice: Voice) -> Path:
    """The WAV of ``text``, synthesised now if missing (announcements, knowledge answers)."""
    target = out_dir / f"{prompt_hash(text)}.wav"
    if not target.exists():
        synthesise(text, target, voice)
    return target


def build_prompts(
    flows_dir: Path, out_dir: Path = DEFAULT_OUT, voice: Voice | None = None
) -> BuildReport:
    """Synthesise every prompt of every flow that has no file yet; rewrite the manifest."""
    library = load_library(flows_dir)
    voice = voice or Voice.find()
    report = BuildReport()
    manifest: dict[str, dict[str, str]] = {}
    for flow in library.flows.values():
        for prompt_id, text in sorted(flow.prompts.items()):
            key = f"{flow.name}/{prompt_id}"
            target = out_dir / f"{prompt_hash(text)}.wav"
            if target.exists():
                report.kept.append(key)
            else:
                synthesise(text, target, voice)
                report.built.append(key)
            manifest[key] = {"file": target.name, "text": text}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).write_text(
        json.dumps(dict(sorted(manifest.items())), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    return report
