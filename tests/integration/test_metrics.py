"""GET /metrics after a known set of items: exact counts, read with prometheus-client's parser."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from agents.kafka.topics import TopicNames
from tests.conftest import raw_item
from tests.integration.conftest import WorkerProcess, wait_for

pytestmark = pytest.mark.kafka


def samples(worker: WorkerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(worker.settings.web_url + "/metrics", timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {
        (
            sample.name,
            tuple(sorted((k, v) for k, v in sample.labels.items() if k != "worker")),
        ): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_counts_after_a_known_set_of_items(worker: WorkerProcess) -> None:
    """The module's own worker (the fixture is per module) has seen only these items."""
    marker = uuid.uuid4().hex
    story = f"Council budget {marker}\n\nThe council approved the budget on Tuesday."
    first, copy = raw_item(story), raw_item(story + "\n\nAdvertisement")
    other = raw_item(f"Storm warning {marker}\n\nA storm is expected on the coast tonight.")
    empty = raw_item("")
    outcomes = worker.collect([first, copy, other, empty])
    assert sorted(o.status for o in outcomes.values()) == [
        "duplicate",
        "published",
        "published",
        "rejected",
    ]

    async def garbage() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=worker.settings.bootstrap)
        await producer.start()
        try:
            raw = TopicNames.for_settings(worker.settings).raw
            await producer.send_and_wait(raw, b"not json", key=b"x")
        finally:
            await producer.stop()

    asyncio.run(garbage())
    items = "newswire_items_total"
    wait_for(
        lambda: samples(worker).get((items, (("outcome", "rejected"), ("stage", "decode")))) == 1
    )
    found = samples(worker)
    assert found[(items, (("outcome", "cleaned"), ("stage", "clean")))] == 3
    assert found[(items, (("outcome", "rejected"), ("stage", "clean")))] == 1
    assert found[(items, (("outcome", "rejected"), ("stage", "decode")))] == 1
    assert found[(items, (("outcome", "new"), ("stage", "dedup")))] == 2
    assert found[(items, (("outcome", "duplicate"), ("stage", "dedup")))] == 1
    assert found[(items, (("outcome", "published"), ("stage", "publish")))] == 2
    assert found[("newswire_end_to_end_seconds_count", ())] == 2
    assert found[("newswire_stage_seconds_count", (("stage", "clean"),))] == 5
    assert found[("newswire_ner_batch_size_sum", ())] == 2
    assert ("newswire_worker_info", (("version", "0.1.0"),)) in found
    rejections = "newswire_rejections_total"
    assert found[(rejections, (("reason", "no-text"), ("stage", "clean")))] == 1
    assert found[(rejections, (("reason", "not-json"), ("stage", "decode")))] == 1


def test_lag_partitions_and_table_sizes(worker: WorkerProcess) -> None:
    """Runs after the counts test in the same module: everything it sent is processed."""
    names = TopicNames.for_settings(worker.settings)
    # raw and unique have two partitions each in the tests, cleaned one; the fast lane's too.
    assert samples(worker)[("newswire_partitions_assigned", ())] == 10

    def caught_up() -> bool:
        lag = {
            labels: value
            for (name, labels), value in samples(worker).items()
            if name == "newswire_consumer_lag"
        }
        expected = {
            (("partition", str(p)), ("topic", topic))
            for topic, count in (
                *((names.raw, 2), (names.cleaned, 1), (names.unique, 2)),
                *((names.urgent_raw, 2), (names.urgent_cleaned, 1), (names.urgent_unique, 2)),
            )
            for p in range(count)
        }
        return set(lag) == expected and not any(lag.values())

    wait_for(caught_up, timeout=30)
    # Table sizes are read every 30 s.
    stories = ("newswire_table_entries", (("table", "dedup-stories"),))
    wait_for(lambda: stories in samples(worker), timeout=60)
    assert samples(worker)[stories] == 2
