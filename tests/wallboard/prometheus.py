"""A real Prometheus (Debian's package) for the tests: configuration generated from
deploy/prometheus/prometheus.yml with the test's ports, started on a free loopback port."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
PROMETHEUS_YML = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS_YML = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
#: The last comparison of an alert expression: what the rule compares against its threshold.
_COMPARISON = re.compile(r"^(?P<query>.+?)\s*(?:==|!=|>=|<=|>|<)\s*[0-9.]+\s*$", re.S)


def binaries() -> tuple[str, str] | None:
    prometheus, promtool = shutil.which("prometheus"), shutil.which("promtool")
    return (prometheus, promtool) if prometheus and promtool else None


def scrape_config(targets: dict[str, list[str]], rules: Path) -> dict[str, Any]:
    """The deployed scrape configuration, its jobs pointed at ``targets`` (job → host:port;
    jobs without targets here are left out), scraping every second."""
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_YML.read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(rules)]
    jobs = []
    for job in config["scrape_configs"]:
        if job["job_name"] in targets:
            job["scrape_interval"] = "1s"
            job["static_configs"] = [{"targets": targets[job["job_name"]]}]
            jobs.append(job)
    assert set(targets) <= {job["job_name"] for job in jobs}, "a job the deployment lacks"
    config["scrape_configs"] = jobs
    return config


def panel_targets() -> Iterator[tuple[str, str, str, bool]]:
    """Every PromQL expression of every dashboard panel: (dashboard, panel, expr, is_range)."""
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                is_range = panel["type"] == "timeseries"
                yield path.stem, panel["title"], target["expr"], is_range


def alert_rules() -> Iterator[tuple[str, str, str]]:
    """Every alert rule: (name, expression, the query its threshold is compared with)."""
    rules = yaml.safe_load(ALERTS_YML.read_text(encoding="utf-8"))
    for group in rules["groups"]:
        for rule in group["rules"]:
            match = _COMPARISON.match(rule["expr"])
            assert match, f"alert {rule['alert']}: expected '<query> <op> <threshold>'"
            yield rule["alert"], rule["expr"], match["query"]


@contextmanager
def prometheus(config: dict[str, Any], workdir: Path) -> Iterator[str]:
    """Run Prometheus with ``config``; yields its base URL; stops it after."""
    found = binaries()
    assert found is not None
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    check = subprocess.run(
        [found[1], "check", "config", str(config_path)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            found[0],
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


async def wait_ready(http: httpx.AsyncClient, url: str, within: float = 60.0) -> None:
    async with asyncio.timeout(within):
        while True:
            try:
                if (await http.get(f"{url}/-/ready")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)


async def query(http: httpx.AsyncClient, url: str, expr: str) -> dict[str, Any]:
    """An instant query; the API's `data` (resultType, result)."""
    reply = await http.get(f"{url}/api/v1/query", params={"query": expr})
    body = reply.json()
    assert reply.status_code == 200 and body["status"] == "success", (expr, body)
    data: dict[str, Any] = body["data"]
    return data


async def query_range(
    http: httpx.AsyncClient, url: str, expr: str, start: float, end: float
) -> dict[str, Any]:
    reply = await http.get(
        f"{url}/api/v1/query_range",
        params={"query": expr, "start": start, "end": end, "step": "1s"},
    )
    body = reply.json()
    assert reply.status_code == 200 and body["status"] == "success", (expr, body)
    data: dict[str, Any] = body["data"]
    return data


async def scalar(http: httpx.AsyncClient, url: str, expr: str) -> float | None:
    """The single value of a one-sample query, or None without data."""
    result = (await query(http, url, expr))["result"]
    return float(result[0]["value"][1]) if result else None
