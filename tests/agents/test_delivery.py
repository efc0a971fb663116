"""The seek-first consumer's ordering, without a broker (the chaos tests show it on one)."""

from __future__ import annotations

from pathlib import Path

import pytest
from faust.transport.consumer import ThreadDelegateConsumer
from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP

from agents.app import create_app
from agents.delivery import SeekFirstConsumer
from pipeline.config import Settings


def consumer_and_partitions(tmp_path: Path) -> tuple[SeekFirstConsumer, TP, TP]:
    """The worker's consumer (not started), a changelog partition and a stream partition."""
    settings = Settings.load({}, home=tmp_path, app_id="seek-test", store="memory://", enrich=False)
    built = create_app(settings)
    built.app.finalize()
    consumer = built.app.consumer
    assert isinstance(consumer, SeekFirstConsumer)
    changelog = TP(sorted(built.app.tables.changelog_topics)[0], 0)
    return consumer, changelog, TP(built.topics.unique.get_topic_name(), 0)


async def test_a_stream_partition_is_fetched_only_after_its_seek_and_the_flow_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer, changelog, stream = consumer_and_partitions(tmp_path)
    seeks: list[str] = []

    async def seek(self: Consumer) -> None:
        seeks.append("sought")

    monkeypatch.setattr(Consumer, "perform_seek", seek)
    consumer._active_partitions = set()  # no assignment to start from without a broker
    consumer.pause_partitions({stream, changelog})
    await consumer.perform_seek()  # Faust seeks when it fetches with the flow stopped, too

    consumer.resume_partitions({stream, changelog})  # what table recovery does first
    assert consumer._get_active_partitions() == {changelog}
    consumer.resume_flow()  # the flow resumes for the changelogs: still not the stream
    assert consumer._get_active_partitions() == {changelog}
    await consumer.perform_seek()
    assert seeks == ["sought", "sought"]
    assert consumer._get_active_partitions() == {changelog}
    consumer.resume_flow()
    assert consumer._get_active_partitions() == {changelog, stream}


async def test_a_partition_the_group_never_committed_is_sought_to_its_beginning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiokafka's seek to committed offsets leaves such a partition where fetching left it."""
    consumer, changelog, stream = consumer_and_partitions(tmp_path)
    committed_stream = TP(stream.topic, 1)
    rewound: list[TP] = []

    offsets: dict[TP, int | None] = {stream: None, committed_stream: 7, changelog: None}

    async def committed(self: ThreadDelegateConsumer) -> dict[TP, int | None]:
        return offsets

    async def to_beginning(*partitions: TP) -> None:
        rewound.extend(partitions)

    monkeypatch.setattr(ThreadDelegateConsumer, "seek_to_committed", committed)
    monkeypatch.setattr(consumer._thread, "seek_to_beginning", to_beginning)
    assert await consumer.seek_to_committed() == offsets
    assert rewound == [stream]  # not the committed one, nor the changelog (recovery seeks it)
