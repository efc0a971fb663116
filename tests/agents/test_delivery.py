"""The rewinding consumer's seek, without a broker (the chaos tests show it on one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faust.transport.consumer import ThreadDelegateConsumer
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP

from agents.app import create_app
from agents.kafka.delivery import RewindingConsumer
from pipeline.config import Settings


def consumer_and_partitions(tmp_path: Path) -> tuple[RewindingConsumer, TP, TP]:
    """The worker's consumer (not started), a changelog partition and a stream partition."""
    settings = Settings.load({}, home=tmp_path, app_id="seek-test", store="memory://", enrich=False)
    built = create_app(settings)
    built.app.finalize()
    consumer = built.app.consumer
    assert isinstance(consumer, RewindingConsumer)
    changelog = TP(sorted(built.app.tables.changelog_topics)[0], 0)
    return consumer, changelog, TP(built.topics.routine.unique.get_topic_name(), 0)


async def test_the_seek_rewinds_never_committed_partitions_with_the_flow_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiokafka's seek to committed offsets leaves a never-committed partition where fetching
    left it, and records fetched before the seek must not be handed over after it."""
    consumer, changelog, stream = consumer_and_partitions(tmp_path)
    committed_stream = TP(stream.topic, 1)
    offsets: dict[TP, int | None] = {stream: None, committed_stream: 7, changelog: None}
    flow_during_seek: list[bool] = []
    rewound: list[TP] = []

    async def committed(self: ThreadDelegateConsumer) -> dict[TP, int | None]:
        flow_during_seek.append(self.flow_active)
        return offsets

    async def to_beginning(*partitions: TP) -> None:
        rewound.extend(partitions)

    monkeypatch.setattr(ThreadDelegateConsumer, "seek_to_committed", committed)
    monkeypatch.setattr(consumer._thread, "seek_to_beginning", to_beginning)
    consumer.resume_flow()
    await consumer.perform_seek()
    assert flow_during_seek == [False]
    assert rewound == [stream]  # not the committed one, nor the changelog (recovery seeks it)
    assert consumer._read_offset[committed_stream] == 7


async def test_fetched_fast_lane_records_are_handed_over_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer, _, routine = consumer_and_partitions(tmp_path)
    urgent = TP(sorted(consumer.first_topics)[0], 0)
    fetched = {routine: ["routine record"], urgent: ["urgent record"]}
    asked: list[set[TP]] = []

    async def getmany(self: Any, active: set[TP] | None, timeout: float) -> dict[TP, list[str]]:
        asked.append(set(active or ()))
        return {tp: records for tp, records in fetched.items() if active is None or tp in active}

    monkeypatch.setattr(Consumer, "_getmany", getmany)
    assert await consumer._getmany({routine, urgent}, 1.0) == {urgent: ["urgent record"]}
    del fetched[urgent]  # none fetched for the fast lane: every partition, as before
    assert await consumer._getmany({routine, urgent}, 1.0) == {routine: ["routine record"]}
    assert asked == [{urgent}, {urgent}, {routine, urgent}]
