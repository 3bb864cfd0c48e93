from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fakepbx.pbx import FakePbx, PbxOptions
from tests.fakepbx.swagger import Models


@pytest.fixture(scope="session")
def models() -> Models:
    return Models()


@pytest.fixture
async def pbx() -> AsyncIterator[FakePbx]:
    """A fake with the production dialplan, ten times faster than real time."""
    options = PbxOptions(
        speed=10.0,
        operators=("op1001", "op1002", "op1003"),
        sound_seconds={"sound:okno-greeting": 2.0},
    )
    async with FakePbx.start(options=options) as running:
        yield running
    assert running.errors == []
