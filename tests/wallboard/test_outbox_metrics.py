"""The outbox backlog that the complaints and appointments services count at scrape time."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.common.db import create_engine, session_factory
from services.common.metrics import has_outbox, refresh_outbox
from tests.conftest import ServiceStarter

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["complaints", "appointments"])
async def test_a_service_with_an_outbox_reports_its_backlog(
    service: str, service_url: ServiceStarter, http: httpx.AsyncClient
) -> None:
    assert has_outbox(service)
    base = await service_url(service)
    reply = await http.get(f"{base}/metrics")
    assert reply.status_code == 200
    outbox = {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
        if sample.name == "okno_outbox_messages" and sample.labels["service"] == service
    }
    assert set(outbox) == {"pending", "dead"}
    assert all(value >= 0 and value == int(value) for value in outbox.values())
    if service == "appointments":
        assert outbox["dead"] == 0  # reminders are retried, never given up


async def test_the_backlog_queries_run_against_the_real_schema(database_url: str) -> None:
    """The scrape swallows a failed count (logged); here a broken query would raise."""
    assert not has_outbox("directory")
    engine = create_engine(database_url, pool_size=1)
    try:
        for service in ("complaints", "appointments"):
            await refresh_outbox(service, session_factory(engine), ZoneInfo("Asia/Novokuznetsk"))
    finally:
        await engine.dispose()
