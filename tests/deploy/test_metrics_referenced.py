"""Every metric a dashboard or an alert rule queries is one the code exposes.

Names are compared with what Prometheus will actually store: prometheus_client exposes a
counter `x` as `x_total` (and `x_created`), a histogram as `x_bucket`, `x_sum`, `x_count`.
So a query for `cost_actual_dollars` (the Counter's name) finds nothing in Prometheus and
fails here, while `cost_actual_dollars_total` passes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client import REGISTRY

import reelforge.observability.metrics  # noqa: F401  (registers every metric)
from tests.deploy import DEPLOY

# Series Prometheus itself writes, which a dashboard may query.
PROMETHEUS_SERIES = {"up"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
    "info": ("_info",),
}
KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
}
IDENTIFIER = re.compile(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")


def exposed_names() -> dict[str, str]:
    """Series name -> the metric family defining it, for everything in the registry."""
    names: dict[str, str] = {}
    for family in REGISTRY.collect():
        for suffix in SUFFIXES.get(family.type, ("",)):
            names[family.name + suffix] = family.name
        for sample in family.samples:
            names.setdefault(sample.name, family.name)
    return names


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords,
    label names, durations, strings or Grafana variables."""
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`', '""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # ranges and subqueries
    # Grouping clauses go entirely, so `sum by (le) (x)` reads as the call `sum (x)`.
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    return {name for name in IDENTIFIER.findall(text) if name.lower() not in KEYWORDS}


def dashboard_exprs() -> Iterator[tuple[str, str]]:
    for path in sorted((DEPLOY / "grafana/dashboards").glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield f"{path.name}: {panel['title']} ({target['refId']})", target["expr"]


def rule_exprs() -> Iterator[tuple[str, str]]:
    groups = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"]
    for group in groups:
        for rule in group["rules"]:
            yield f"alerts.yml: {rule.get('alert') or rule.get('record')}", rule["expr"]


def all_exprs() -> list[tuple[str, str]]:
    return [*dashboard_exprs(), *rule_exprs()]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (le, stage) (rate(video_gen_duration_seconds_bucket{stage="render"}[5m]))',
            {"video_gen_duration_seconds_bucket"},
        ),
        (
            "sum(increase(job_failures_total[15m])) / sum(increase(jobs_finished_total"
            '{status=~"completed|failed"}[15m])) > 0.05 and on (stage) stuck_jobs >= 10',
            {"job_failures_total", "jobs_finished_total", "stuck_jobs"},
        ),
        ("max(stuck_jobs) > 10", {"stuck_jobs"}),
        ("queue_depth", {"queue_depth"}),
        ("rate(upload_bytes_total[$__rate_interval]) offset 1h", {"upload_bytes_total"}),
        ('sum(up{job=~"reelforge-.*"}) without (instance)', {"up"}),
    ],
)
def test_metric_names_are_parsed_out_of_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_a_misspelled_or_unsuffixed_metric_is_reported() -> None:
    exposed = exposed_names()
    for wrong in ("video_gen_duraton_seconds_bucket", "cost_actual_dollars", "stuck_jobs_total"):
        assert metric_names(f"sum(rate({wrong}[5m]))") == {wrong}
        assert wrong not in exposed


def test_the_registry_exposes_counters_with_their_total_suffix() -> None:
    exposed = exposed_names()
    assert exposed["cost_actual_dollars_total"] == "cost_actual_dollars"
    assert exposed["jobs_finished_total"] == "jobs_finished"
    assert exposed["video_gen_duration_seconds_bucket"] == "video_gen_duration_seconds"
    assert exposed["stuck_jobs"] == "stuck_jobs"


def test_every_dashboard_target_and_rule_queries_at_least_one_metric() -> None:
    exprs = all_exprs()
    assert len(exprs) > 20, "expected the three dashboards and the alert rules"
    empty = [where for where, expr in exprs if not metric_names(expr)]
    assert not empty, f"no metric found in: {empty}"


def test_every_queried_metric_is_exposed_by_the_code() -> None:
    exposed = exposed_names() | {name: name for name in PROMETHEUS_SERIES}
    unknown: dict[str, list[str]] = {}
    for where, expr in all_exprs():
        for name in sorted(metric_names(expr) - set(exposed)):
            unknown.setdefault(name, []).append(where)
    assert not unknown, "queried metrics the code does not expose:\n" + "\n".join(
        f"  {name}: {', '.join(places)}" for name, places in sorted(unknown.items())
    )


def test_the_alerting_metrics_are_the_ones_the_brief_names() -> None:
    queried = set().union(*(metric_names(expr) for _, expr in rule_exprs()))
    assert {
        "job_failures_total",
        "jobs_finished_total",
        "video_gen_duration_seconds_bucket",
        "cost_actual_dollars_total",
        "stuck_jobs",
    } <= queried
