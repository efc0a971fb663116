"""At-least-once delivery made exact at the edges: a consumer that never skips a record after
a rebalance, an idempotent producer, and a guard that keeps a story version from going out
twice when records are replayed after a crash.

Kafka redelivers every record whose offset was not committed when a worker died. Clean and
dedup replays are absorbed by dedup's memory of item ids; the guard here absorbs publish
replays. It knows each uri's last published version from two places: a table (rebuilt from
its changelog) and, since a worker can die after a story went out but before that table's
changelog did, the newest records of ``stories.structured`` itself, read whenever partitions
are assigned.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping, Set
from datetime import timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import Consumer, Producer
from faust.types import TP

from agents.security import client_options
from pipeline.config import Settings

log = logging.getLogger("newswire.delivery")
SWEEP_INTERVAL_S = 600.0
RECENT_OUTPUT = 5000
"""Records per partition of stories.structured read back at assignment: more than a worker
publishes between two offset commits (every 2.8 s)."""


class IdempotentProducer(Producer):
    """Faust's producer with Kafka's idempotence on: a retry after a broker restart or a
    lost acknowledgement never writes a record twice."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


class SeekFirstConsumer(Consumer):
    """Faust's consumer, fetching a newly assigned partition only once it has been sought to
    its committed offset and the stream queues were cleared.

    After a rebalance, Faust's table recovery resumes the stream partitions while the fetcher
    already runs (for the changelogs), then seeks them, then clears the stream queues. Records
    fetched in between were cleared unseen while the consumer's read offsets had passed them:
    the chaos tests saw one record skipped (its offset committed over) and, with two skipped,
    a partition whose offsets were never committed again. Here the stream partitions resumed
    after an assignment are held back until the seek that follows and the flow's resumption.

    That seek leaves alone a partition the group never committed (aiokafka seeks only to
    committed offsets above 0), so records fetched and dropped during the rebalance would be
    skipped for good: such partitions go back to their beginning.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held: set[TP] = set()
        self._sought = False

    async def on_partitions_assigned(self, assigned: Set[TP], generation_id: int = 0) -> None:
        self._held, self._sought = set(), False
        await super().on_partitions_assigned(assigned, generation_id)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        wanted = set(tps)
        if not self._sought:
            streams = {tp for tp in wanted if not self._is_changelog_tp(tp)}
            self._held |= streams
            wanted -= streams
        super().resume_partitions(wanted)

    async def perform_seek(self) -> None:
        await super().perform_seek()
        # Faust also seeks when it fetches with the flow stopped; only the seek after the
        # stream partitions were resumed is the one that counts.
        self._sought = self._sought or bool(self._held)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        never = [tp for tp, at in committed.items() if not at and not self._is_changelog_tp(tp)]
        if never:
            await self._thread.seek_to_beginning(*never)
        return committed

    def resume_flow(self) -> None:
        super().resume_flow()
        if self._sought and self._held:
            held, self._held = self._held, set()
            super().resume_partitions(held)


class PublishedVersions:
    """The last version published per story uri, forgotten after the retention window."""

    def __init__(self, table: Any, retention: timedelta) -> None:
        self.table, self.retention = table, retention
        self.recent: dict[bytes, int] = {}
        self.read_back_done = asyncio.Event()
        """Publishing waits for this: streams resume while the read-back may still run."""
        self.read_back_done.set()  # until the first assignment there is nothing to read
        self._last_sweep = time.monotonic()

    def already(self, key: bytes, version: int) -> bool:
        entry = self.table.get(key)
        last = max(int(entry[0]) if entry else 0, self.recent.get(key, 0))
        return last >= version

    def remember(self, key: bytes, version: int) -> None:
        self.table[key] = [version, time.time()]
        if time.monotonic() - self._last_sweep > SWEEP_INTERVAL_S:
            cutoff = time.time() - self.retention.total_seconds()
            for old in [k for k, (_, at) in self.table.items() if at < cutoff]:
                del self.table[old]
            self._last_sweep = time.monotonic()

    async def read_back(self, settings: Settings, topic: str, partitions: Iterable[int]) -> None:
        """Learn the versions among the newest records of these partitions of ``topic``."""
        self.read_back_done.clear()
        try:
            wanted = [TopicPartition(topic, p) for p in partitions]
            self.recent = await recent_versions(settings, wanted) if wanted else {}
            log.info("read back %d published stories from %s", len(self.recent), topic)
        finally:
            self.read_back_done.set()


async def recent_versions(settings: Settings, partitions: list[TopicPartition]) -> dict[bytes, int]:
    """uri -> highest version among the last ``RECENT_OUTPUT`` records of each partition."""
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        enable_auto_commit=False,
        max_partition_fetch_bytes=settings.max_item_bytes * 2,
        fetch_max_bytes=settings.max_item_bytes * 4,
    )
    await consumer.start()
    found: dict[bytes, int] = {}
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(starts[tp], ends[tp] - RECENT_OUTPUT))
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if record.key is None or record.value is None:
                        continue
                    version = int(orjson.loads(record.value).get("version", 0))
                    found[record.key] = max(found.get(record.key, 0), version)
    finally:
        await consumer.stop()
    return found
