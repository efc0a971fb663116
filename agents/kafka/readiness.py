"""What ``/ready`` and the lag metrics read of the worker's Kafka side: partitions assigned,
a rebalance, records not acknowledged, and each assigned partition's lag."""

from __future__ import annotations

from collections.abc import Mapping

import faust
from faust.types import TP

from agents.kafka.outbox import DeliveryHealth
from agents.observe.metrics import ConsumerState


def readiness(app: faust.App, health: DeliveryHealth) -> tuple[bool, str | None]:
    """Ready, or the reason not: no partitions, a rebalance, or records the broker has not
    acknowledged (the model loads before the app starts)."""
    if not app.consumer.assignment():
        return False, "no partitions assigned"
    if app.rebalancing:
        return False, "rebalancing"
    if health.reason is not None:
        return False, health.reason
    return True, None


def consumer_lag(app: faust.App, sources: frozenset[str]) -> ConsumerState:
    """Highwater minus committed offset for each assigned partition of ``sources``."""
    consumer = app.consumer
    # Faust seeds its committed offsets from the broker at assignment and updates them at
    # every commit; it has no public accessor for them.
    committed: Mapping[TP, int | None] = getattr(consumer, "_committed_offset", {})
    state: dict[tuple[str, int], int | None] = {}
    for tp in consumer.assignment():
        if tp.topic in sources:
            # Before the group's first commit on a partition, everything from offset 0 is due.
            end, done = consumer.highwater(tp), committed.get(tp) or 0
            state[(tp.topic, tp.partition)] = None if end is None else max(0, end - done)
    return state
