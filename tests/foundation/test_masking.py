"""Personal data never reaches the logs unmasked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from services.common.logging import configure_logging
from services.common.masking import mask_text, mask_value


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("+79131234567", "+7********67"),
        ("+7 (913) 123-45-67", "+7********67"),
        ("8 913 123 45 67", "8********67"),
        ("звонок с 89131234567 принят", "звонок с 8********67 принят"),
        ("ivan.petrov@mail.example", "i***@mail.example"),
    ],
)
def test_masks_phones_and_emails(raw: str, masked: str) -> None:
    assert mask_text(raw) == masked


def test_leaves_short_numbers_and_ids_alone() -> None:
    assert mask_text("очередь 12, ожидание 40 с, call 1764512345.42") == (
        "очередь 12, ожидание 40 с, call 1764512345.42"
    )


def test_masks_inside_nested_structures() -> None:
    value = {"caller": "+79131234567", "history": [{"email": "a.b@c.example"}], "n": 5}
    assert mask_value(value) == {
        "caller": "+7********67",
        "history": [{"email": "a***@c.example"}],
        "n": 5,
    }


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.usefixtures("restore_logging")
def test_log_lines_are_json_and_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="INFO", json=True)
    structlog.get_logger("test").info(
        "callback requested by +7 913 123-45-67", caller="+79131234567"
    )
    logging.getLogger("okno.test.stdlib").info("mail to ivan@mail.example")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "callback requested by +7********67"
    assert lines[0]["caller"] == "+7********67"
    assert lines[1]["event"] == "mail to i***@mail.example"
    assert "1234567" not in json.dumps(lines)
