"""The alert rules load, their promtool unit tests pass, and every rule has a case that
fires and one that stays quiet; Prometheus' and Alertmanager's configs are valid."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import DEPLOY, ROOT, require_tool

PROMETHEUS = DEPLOY / "prometheus"
APT_HINT = "apt-get install prometheus (Debian's package ships promtool)"
SEVERITIES = {"critical", "warning", "info"}
# The thresholds DESIGN.md section 7 promises.
PROMISED = {
    "JobFailureRateHigh": "> 0.05",
    "GenerationP95Slow": "> 600",
    "DailyCostHigh": "> 100",
    "StuckJobs": "> 10",
}


def rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def test_promtool_check_rules() -> None:
    promtool = require_tool("promtool", APT_HINT)
    result = run([promtool, "check", "rules", "alerts.yml"], PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    promtool = require_tool("promtool", APT_HINT)
    result = run([promtool, "test", "rules", "alerts_test.yml"], PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_config() -> None:
    promtool = require_tool("promtool", APT_HINT)
    result = run([promtool, "check", "config", "prometheus.yml"], PROMETHEUS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_amtool_check_config() -> None:
    amtool = require_tool("amtool", "apt-get install prometheus-alertmanager")
    result = run([amtool, "check-config", "alertmanager.yml"], DEPLOY / "alertmanager")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        ({"alertname": "StuckJobs", "severity": "critical"}, "pagerduty,slack"),
        ({"alertname": "DailyCostHigh", "severity": "warning"}, "slack"),
    ],
)
def test_alertmanager_pages_critical_alerts_and_sends_all_to_slack(
    labels: dict[str, str], receivers: str
) -> None:
    amtool = require_tool("amtool", "apt-get install prometheus-alertmanager")
    result = run(
        [
            amtool,
            "config",
            "routes",
            "test",
            "--config.file=alertmanager.yml",
            *(f"{key}={value}" for key, value in labels.items()),
        ],
        DEPLOY / "alertmanager",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def test_every_rule_has_a_firing_and_a_quiet_unit_test() -> None:
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    fires: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {rule["alert"] for rule in rules()}
    assert names - fires == set(), f"no firing case for {sorted(names - fires)}"
    assert names - quiet == set(), f"no quiet case for {sorted(names - quiet)}"


def test_the_promised_alerts_exist_with_their_thresholds() -> None:
    by_name = {rule["alert"]: rule for rule in rules()}
    for name, threshold in PROMISED.items():
        assert name in by_name, f"missing alert {name}"
        assert threshold in by_name[name]["expr"], f"{name} should alert {threshold}"
    assert "histogram_quantile(0.95" in by_name["GenerationP95Slow"]["expr"]
    assert "increase(cost_actual_dollars_total[24h])" in by_name["DailyCostHigh"]["expr"]


def test_every_rule_has_severity_and_annotations_and_a_runbook_that_exists() -> None:
    docs = (ROOT / "docs/operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.strip().lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", docs, re.MULTILINE)
    }
    for rule in rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in SEVERITIES, name
        annotations = rule["annotations"]
        assert {"summary", "description", "runbook"} <= set(annotations), name
        path, _, anchor = annotations["runbook"].partition("#")
        assert path == "docs/operations.md", name
        assert anchor in anchors, f"{name}: no heading for #{anchor} in docs/operations.md"
