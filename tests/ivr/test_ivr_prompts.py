"""`okno prompts build`: 8 kHz mono 16-bit WAV named by the text's hash, rebuilt only on change."""

from __future__ import annotations

import json
import shutil
import wave
from pathlib import Path

import pytest
import typer
import yaml
from ivr_support import ROOT
from typer.testing import CliRunner

from services.ivr.cli import register
from services.ivr.media import prompt_hash
from services.ivr.prompts import ToolsMissing, Voice, build_prompts, ensure_prompt

needs_tools = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are not installed (apt-get install espeak-ng sox)",
)
HELLO = "Здравствуйте!"


def okno() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def write_flow(folder: Path, hello: str) -> None:
    flow = {
        "start": "hello",
        "nodes": {
            "hello": {"kind": "hangup", "say": "hello"},
            "x": {"kind": "hangup", "say": "bye"},
        },
        "prompts": {"hello": hello, "bye": "До свидания."},
    }
    folder.mkdir(exist_ok=True)
    (folder / "main.yaml").write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")


@needs_tools
def test_build_makes_telephone_wavs_and_rebuilds_only_changes(tmp_path: Path) -> None:
    flows, out = tmp_path / "flows", tmp_path / "sounds"
    write_flow(flows, HELLO)
    first = build_prompts(flows, out)
    assert sorted(first.built) == ["main/bye", "main/hello"] and first.kept == []
    wav = out / f"{prompt_hash(HELLO)}.wav"
    with wave.open(str(wav)) as sound:
        assert (sound.getframerate(), sound.getnchannels(), sound.getsampwidth()) == (8000, 1, 2)
        assert sound.getnframes() > 8000 * 0.3  # some speech, not an empty file
    stamp = wav.stat().st_mtime_ns

    again = build_prompts(flows, out)
    assert again.built == [] and sorted(again.kept) == ["main/bye", "main/hello"]
    assert wav.stat().st_mtime_ns == stamp

    write_flow(flows, "Добрый день!")
    changed = build_prompts(flows, out)
    assert changed.built == ["main/hello"] and changed.kept == ["main/bye"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["main/hello"] == {
        "file": f"{prompt_hash('Добрый день!')}.wav",
        "text": "Добрый день!",
    }


@needs_tools
def test_text_known_only_during_a_call_is_synthesised_once(tmp_path: Path) -> None:
    voice = Voice.find()
    path = ensure_prompt("Приём в МФЦ отменён до полудня.", tmp_path, voice)
    stamp = path.stat().st_mtime_ns
    assert ensure_prompt("Приём в МФЦ  отменён до полудня.", tmp_path, voice) == path
    assert path.stat().st_mtime_ns == stamp


@needs_tools
def test_cli_builds_the_shipped_prompts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        okno(), ["prompts", "build", "--flows", str(ROOT / "ivr_scripts"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert "main/topic_menu" in manifest and "callback/registered" in manifest
    assert all((tmp_path / entry["file"]).exists() for entry in manifest.values())


def test_without_espeak_the_message_gives_the_apt_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolsMissing, match="apt-get install -y espeak-ng sox"):
        Voice.find()
    write_flow(tmp_path / "flows", HELLO)
    result = CliRunner().invoke(
        okno(),
        ["prompts", "build", "--flows", str(tmp_path / "flows"), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert "sudo apt-get install -y espeak-ng sox" in result.stderr


def test_broken_flows_are_not_built(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "main.yaml").write_text("start: a\nnodes: {a: {kind: play, say: nope}}\n")
    result = CliRunner().invoke(
        okno(), ["prompts", "build", "--flows", str(flows), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "prompt 'nope' has no text" in result.stderr
