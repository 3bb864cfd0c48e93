"""The Grafana dashboards and provisioning are valid and consistent with each other."""

from __future__ import annotations

import json
import re

import yaml

from tests.wallboard.prometheus import DASHBOARDS, DEPLOY, panel_targets

PROVISIONING = DEPLOY / "grafana" / "provisioning"
_METRIC = re.compile(r"\bokno_[a-z_]+")


def datasource_uids() -> set[str]:
    config = yaml.safe_load((PROVISIONING / "datasources" / "okno.yml").read_text("utf-8"))
    return {source["uid"] for source in config["datasources"] if source["type"] == "prometheus"}


def test_dashboards_are_valid_grafana_json() -> None:
    assert {path.stem for path in DASHBOARDS} == {"wallboard", "operations"}
    uids = datasource_uids()
    seen_uids = set()
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(dashboard["schemaVersion"], int) and dashboard["schemaVersion"] >= 36
        assert dashboard["uid"] not in seen_uids and len(dashboard["uid"]) <= 40
        seen_uids.add(dashboard["uid"])
        ids = [panel["id"] for panel in dashboard["panels"]]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in dashboard["panels"]:
            where = f"{path.name} / {panel['title']}"
            assert panel["datasource"]["uid"] in uids, where
            assert panel["targets"], where
            refs = [target["refId"] for target in panel["targets"]]
            assert len(refs) == len(set(refs)), where
            for target in panel["targets"]:
                assert target["datasource"]["uid"] in uids, where
                assert target["expr"].strip(), where
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24 and grid["w"] > 0 and grid["h"] > 0, where


def test_the_dashboards_folder_is_provisioned_where_compose_mounts_it() -> None:
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "okno.yml").read_text("utf-8"))
    (provider,) = providers["providers"]
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text("utf-8"))
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_every_metric_a_panel_uses_is_documented() -> None:
    documented = (DEPLOY.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
    used = {m for _d, _p, expr, _r in panel_targets() for m in _METRIC.findall(expr)}
    base = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in used}
    missing = sorted(name for name in base if f"`{name}" not in documented)
    assert not missing, missing
