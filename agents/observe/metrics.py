"""Prometheus metrics of a worker, served at ``GET /metrics``.

Names follow Prometheus conventions (``newswire_`` prefix, ``_total`` counters, ``_seconds``
histograms). Every series carries a ``worker`` label (host and web port), so several workers
scraped into one Prometheus never overwrite each other's series.
"""

from __future__ import annotations

import socket
import time
from collections import Counter as Tally
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import version
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from pipeline.config import Settings

RECENT_LATENCIES = 20_000
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """One registry per app, so tests and several apps in a process stay apart."""

    def __init__(self, settings: Settings) -> None:
        self.worker = f"{socket.gethostname()}:{settings.web_port}"
        self.registry = CollectorRegistry()
        # What the dashboard draws: the same counts, and recent end-to-end latencies with
        # the time they were observed.
        self.totals: Tally[str] = Tally()
        self.recent_latencies: deque[tuple[float, float]] = deque(maxlen=RECENT_LATENCIES)
        labels = ["worker"]
        self.items = Counter(
            "newswire_items_total",
            "Items by stage and outcome.",
            [*labels, "stage", "outcome"],
            registry=self.registry,
        )
        self.stage_seconds = Histogram(
            "newswire_stage_seconds",
            "Time a stage spends on one item.",
            [*labels, "stage"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.end_to_end_seconds = Histogram(
            "newswire_end_to_end_seconds",
            "From receivedAt to the story's publication.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.ner_batch_size = Histogram(
            "newswire_ner_batch_size",
            "Stories per enrichment batch.",
            labels,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128),
            registry=self.registry,
        )
        self.ner_batch_seconds = Histogram(
            "newswire_ner_batch_seconds",
            "Time of one enrichment batch.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rejections = Counter(
            "newswire_rejections_total",
            "Dead letters by stage and reason code.",
            [*labels, "stage", "reason"],
            registry=self.registry,
        )
        self.send_failures = Counter(
            "newswire_send_failures_total",
            "Records the broker did not acknowledge, sent again, by topic.",
            [*labels, "topic"],
            registry=self.registry,
        )
        self.table_entries = Gauge(
            "newswire_table_entries",
            "Entries in a state table held by this worker (read every 30 s).",
            [*labels, "table"],
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "newswire_subscriptions",
            "Saved subscriptions.",
            labels,
            registry=self.registry,
        )
        self.push_deliveries = Counter(
            "newswire_push_deliveries",
            "Push deliveries by subscription and outcome (delivered, retried, failed).",
            [*labels, "subscription", "outcome"],
            registry=self.registry,
        )
        self.push_oldest_undelivered = Gauge(
            "newswire_push_oldest_undelivered_seconds",
            "Age of the oldest record a push subscription has not delivered yet (0: none).",
            [*labels, "subscription"],
            registry=self.registry,
        )
        info = Gauge(
            "newswire_worker_info",
            "The worker's version (always 1).",
            [*labels, "version"],
            registry=self.registry,
        )
        info.labels(self.worker, version("newswire")).set(1)

    def watch_consumer(self, read: Callable[[], ConsumerState]) -> None:
        """Report lag and assigned partitions, read from the consumer at every scrape."""
        self.registry.register(_ConsumerCollector(self.worker, read))

    def watch_feeds(self, read: Callable[[], list[dict[str, Any]]]) -> None:
        """Report each feed's health (``Feeds.health``) at every scrape."""
        self.registry.register(_FeedCollector(self.worker, read))

    def count(self, stage: str, outcome: str, items: int = 1) -> None:
        self.items.labels(self.worker, stage, outcome).inc(items)
        self.totals[f"{stage}.{outcome}"] += items

    def pushed(self, subscription: str, outcome: str) -> None:
        """A push delivery's outcome: ``delivered``, ``retried`` or ``failed``."""
        self.push_deliveries.labels(self.worker, subscription, outcome).inc()

    def push_waiting(self, subscription: str, seconds: float) -> None:
        """The age of a push subscription's oldest undelivered record (0: none)."""
        self.push_oldest_undelivered.labels(self.worker, subscription).set(seconds)

    def push_health(self) -> list[dict[str, Any]]:
        """Each push subscription's counts and oldest undelivered age, for the dashboard,
        read from the two metrics."""
        counts: dict[str, Tally[str]] = {}
        for sample in _samples(self.push_deliveries, "_total"):
            outcome = sample.labels["outcome"]
            counts.setdefault(sample.labels["subscription"], Tally())[outcome] += int(sample.value)
        oldest = {
            sample.labels["subscription"]: sample.value
            for sample in _samples(self.push_oldest_undelivered, "")
        }
        return [
            {"name": name, **{k: totals[k] for k in ("delivered", "retried", "failed")}}
            | {"oldestSeconds": round(oldest.get(name, 0.0), 1)}
            for name, totals in sorted(counts.items())
        ]

    def end_to_end(self, seconds: float) -> None:
        self.end_to_end_seconds.labels(self.worker).observe(seconds)
        self.recent_latencies.append((time.time(), seconds))

    def time_stage(self, stage: str, seconds: float) -> None:
        self.stage_seconds.labels(self.worker, stage).observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _samples(metric: Counter | Gauge, suffix: str) -> list[Sample]:
    """The samples of a metric whose names end in ``suffix`` (a counter's ``_total``, not
    its ``_created``)."""
    return [s for family in metric.collect() for s in family.samples if s.name.endswith(suffix)]


ConsumerState = Mapping[tuple[str, int], int | None]
"""Lag (records not yet processed) per assigned topic and partition; None until known."""


class _ConsumerCollector(Collector):
    def __init__(self, worker: str, read: Callable[[], ConsumerState]) -> None:
        self.worker, self.read = worker, read

    def collect(self) -> Iterator[Metric]:
        state = self.read()
        lag = GaugeMetricFamily(
            "newswire_consumer_lag",
            "Records in a partition not yet processed and committed by this worker.",
            labels=["worker", "topic", "partition"],
        )
        for (topic, partition), records in sorted(state.items()):
            if records is not None:
                lag.add_metric([self.worker, topic, str(partition)], records)
        assigned = GaugeMetricFamily(
            "newswire_partitions_assigned",
            "Partitions of the agents' topics this worker consumes.",
            labels=["worker"],
        )
        assigned.add_metric([self.worker], len(state))
        yield lag
        yield assigned


class _FeedCollector(Collector):
    def __init__(self, worker: str, read: Callable[[], list[dict[str, Any]]]) -> None:
        self.worker, self.read = worker, read

    def collect(self) -> Iterator[Metric]:
        labels = ["worker", "feed"]
        items = CounterMetricFamily("newswire_feed_items", "Items a feed sent.", labels=labels)
        errors = CounterMetricFamily(
            "newswire_feed_errors", "Failed polls and quarantined files.", labels=labels
        )
        hourly = GaugeMetricFamily(
            "newswire_feed_items_last_hour", "Items a feed sent in the last hour.", labels=labels
        )
        last = GaugeMetricFamily(
            "newswire_feed_last_item_timestamp_seconds",
            "When a feed last sent an item (Unix time).",
            labels=labels,
        )
        quiet = GaugeMetricFamily(
            "newswire_feed_quiet",
            "1 when a feed has sent nothing for longer than its quiet_after_seconds.",
            labels=labels,
        )
        for feed in self.read():
            key = [self.worker, feed["name"]]
            items.add_metric(key, feed["itemsTotal"])
            errors.add_metric(key, feed["errorsTotal"])
            hourly.add_metric(key, feed["itemsLastHour"])
            quiet.add_metric(key, 1 if feed["state"] == "quiet" else 0)
            if feed["lastItemAt"] is not None:
                last.add_metric(key, feed["lastItemAt"])
        yield from (items, errors, hourly, last, quiet)
