"""The deployed Prometheus configuration, alert rules and Grafana dashboards against a real
Prometheus scraping a running centre with simulated traffic: every panel's and every alert's
PromQL must return data of the expected shape."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from services.common.settings import Settings
from tests.wallboard.centre import running_centre, simulate_traffic, wait_for
from tests.wallboard.prometheus import (
    ALERTS_YML,
    PROMETHEUS_YML,
    alert_rules,
    binaries,
    panel_targets,
    prometheus,
    query,
    query_range,
    scalar,
    scrape_config,
    wait_ready,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.skipif(binaries() is None, reason="Debian's prometheus package is not installed"),
]


def test_promtool_accepts_the_deployed_config_and_rules() -> None:
    promtool = binaries()[1]  # type: ignore[index]
    for args in (["check", "config", str(PROMETHEUS_YML)], ["check", "rules", str(ALERTS_YML)]):
        done = subprocess.run([promtool, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr


async def test_every_panel_and_alert_returns_data_from_a_live_centre(
    settings: Settings, tmp_path: Path
) -> None:
    async with running_centre(settings, tmp_path) as centre, httpx.AsyncClient(timeout=10) as http:
        services = list(centre.services.values())
        targets = {
            "okno-services": [url.removeprefix("http://") for url in services],
            "okno-router": [f"127.0.0.1:{centre.router_port}"],
            "okno-bridge": [f"127.0.0.1:{centre.bridge_port}"],
        }
        config = scrape_config(targets, ALERTS_YML)
        with prometheus(config, tmp_path) as url:
            await wait_ready(http, url)
            expected_up = sum(map(len, targets.values()))

            async def scraped_twice() -> bool:  # counters start from a sample before the traffic
                up = await query(http, url, 'count_over_time(up{job=~"okno-.*"}[1m]) >= 2')
                return len(up["result"]) == expected_up

            await wait_for(scraped_twice, within=60)
            for base in services:  # requests for the HTTP panels, before and during scrapes
                assert (await http.get(f"{base}/health")).status_code == 200
            await simulate_traffic(centre)

            async def settled() -> bool:
                answered = await scalar(http, url, 'sum(okno_acd_calls_today{outcome="answered"})')
                abandoned = await scalar(
                    http, url, 'sum(okno_acd_calls_today{outcome="abandoned"})'
                )
                overflowed = await scalar(http, url, "sum(okno_acd_overflows_total)")
                up = await query(http, url, 'up{job=~"okno-.*"} == 1')
                return (
                    (answered or 0) >= 5
                    and (abandoned or 0) >= 1
                    and (overflowed or 0) >= 1
                    and len(up["result"]) == expected_up
                )

            await wait_for(settled, within=120)
            for base in services:
                await http.get(f"{base}/health")
                await http.get(f"{base}/supervision/modes")  # 401 on supervision, 404 elsewhere

            async def rates_have_data() -> bool:  # two samples after the traffic, for rate()
                found = await scalar(http, url, "sum(rate(okno_http_requests_total[5m])) > 0")
                answers = await scalar(
                    http, url, "sum(increase(okno_acd_answer_wait_seconds_count[5m])) > 0"
                )
                return found is not None and answers is not None

            await wait_for(rates_have_data, within=60)
            now = (await query(http, url, "time()"))["result"][0]
            end = float(now)
            failures = []
            checked = 0
            for dashboard, panel, expr, is_range in panel_targets():
                data = await query(http, url, expr)
                if data["resultType"] != "vector" or not data["result"]:
                    failures.append(f"{dashboard} / {panel}: {expr} → {data}")
                if is_range:
                    ranged = await query_range(http, url, expr, end - 30, end)
                    if ranged["resultType"] != "matrix" or not any(
                        series["values"] for series in ranged["result"]
                    ):
                        failures.append(f"{dashboard} / {panel} (range): {expr} → {ranged}")
                checked += 1
            for name, expr, compared in alert_rules():
                full = await query(http, url, expr)
                lhs = await query(http, url, compared)
                if full["resultType"] != "vector":
                    failures.append(f"alert {name}: {expr} → {full}")
                if lhs["resultType"] != "vector" or not lhs["result"]:
                    failures.append(f"alert {name}: {compared} has no data → {lhs}")
                checked += 1
            assert not failures, "\n".join(failures)
            assert checked >= 40

            # The rules are loaded and evaluate without error.
            async def rules_evaluated() -> list[dict[str, object]]:
                body = (await http.get(f"{url}/api/v1/rules")).json()
                rules = [rule for group in body["data"]["groups"] for rule in group["rules"]]
                never = [rule for rule in rules if rule["lastEvaluation"].startswith("0001")]
                return [] if never else rules

            rules = await wait_for(rules_evaluated, within=30)
            assert {rule["name"] for rule in rules} == {name for name, _e, _q in alert_rules()}
            assert all(rule["health"] == "ok" for rule in rules), rules

            # Figures that must be what the traffic made them.
            lease = await scalar(http, url, "max(okno_acd_router_lease_held)")
            ari = await scalar(http, url, 'min(okno_bridge_connected{link="ari"})')
            ami = await scalar(http, url, 'min(okno_bridge_connected{link="ami"})')
            overflow = await query(http, url, "okno_acd_overflows_total")
            assert (lease, ari, ami) == (1.0, 1.0, 1.0)
            assert overflow["result"][0]["metric"]["target"] == "neighbour"
            assert overflow["result"][0]["metric"]["topic"] == "housing"
            waits = await scalar(http, url, "sum(okno_acd_answer_wait_seconds_count)")
            assert waits is not None and waits >= 5
            lag = await query(http, url, 'okno_stream_lag_entries{stream="commands"}')
            assert {s["metric"]["group"] for s in lag["result"]} >= {"bridge"}
