"""The Grafana dashboard and the monitoring services in docker-compose.yml: every query names
metrics the worker really exports, and every mounted file exists."""

from __future__ import annotations

import re
from typing import Any

import orjson
import yaml
from prometheus_client.parser import text_string_to_metric_families

from agents.observe.metrics import Metrics
from pipeline.config import Settings
from tests.conftest import ROOT

DASHBOARD = ROOT / "ops" / "grafana" / "dashboards" / "newswire.json"


def exported_sample_names() -> set[str]:
    """Every sample name of a worker's /metrics once each metric has a value."""
    metrics = Metrics(Settings.load({}))
    metrics.count("clean", "cleaned")
    metrics.time_stage("clean", 0.01)
    metrics.end_to_end(0.2)
    metrics.ner_batch_size.labels(metrics.worker).observe(3)
    metrics.ner_batch_seconds.labels(metrics.worker).observe(0.1)
    metrics.rejections.labels(metrics.worker, "clean", "no-text").inc()
    metrics.table_entries.labels(metrics.worker, "dedup-stories").set(1)
    metrics.subscriptions.labels(metrics.worker).set(1)
    metrics.push_deliveries.labels(metrics.worker, "desk", "delivered").inc()
    metrics.push_oldest_undelivered.labels(metrics.worker, "desk").set(2)
    metrics.watch_consumer(lambda: {("wire.raw", 0): 4})
    feed = {"name": "afp", "itemsTotal": 3, "errorsTotal": 1, "itemsLastHour": 2}
    metrics.watch_feeds(lambda: [feed | {"state": "quiet", "lastItemAt": 1.0e9}])
    text = metrics.exposition().decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def test_every_dashboard_query_uses_exported_metrics() -> None:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(expressions) >= 15
    used = {name for expr in expressions for name in re.findall(r"newswire_[a-z_]+", expr)}
    exported = exported_sample_names()
    assert used - exported == set()
    # Each family the worker exports is on the dashboard somewhere.
    series = {name for name in exported if not name.endswith("_created")}
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in series}
    shown = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    assert families - shown == set()


def test_every_panel_filters_by_the_worker_variable() -> None:
    dashboard = orjson.loads(DASHBOARD.read_bytes())
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert 'worker=~"$worker"' in target["expr"], panel["title"]


def test_compose_starts_prometheus_and_grafana_with_the_repository_files() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    prometheus = yaml.safe_load((ROOT / "ops" / "prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["worker:6066"]
    assert services["worker"]["environment"]["NEWSWIRE_WEB_HOST"] == "0.0.0.0"
