"""At-least-once delivery made exact at the edges: a consumer that re-reads what a rebalance
dropped, an idempotent producer, and a guard that keeps a story version from going out
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
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Literal

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from faust.transport.drivers.aiokafka import Consumer, Producer
from faust.types import TP
from faust.types.tuples import FutureMessage

from agents.kafka.outbox import note_sent
from agents.kafka.security import client_options
from pipeline.config import Settings

log = logging.getLogger("newswire.delivery")
SWEEP_INTERVAL_S = 600.0
RECENT_OUTPUT = 5000
"""Records per partition of stories.structured read back at assignment: more than a worker
publishes between two offset commits (every 2.8 s)."""


STOP_WAIT_S = 10.0
"""How long a stopping worker waits for the events in hand to be acked."""

PENDING_TABLE_WRITES = 10_000
"""Table changelog records waiting to be produced before Faust pauses the streams. Its
default, 100, is reached by a burst of dedup decisions (a record or two each); the pause
then drains it one record per event-loop turn and stopped the whole worker for a moment
every few seconds."""


class IdempotentProducer(Producer):
    """Faust's producer with Kafka's idempotence on (a retry after a broker restart or a lost
    acknowledgement never writes a record twice) that knows every topic it writes to.

    aiokafka asks the broker for the metadata of every topic until the first send to a topic
    it does not know yet; from then on it asks only for the topics it was sent to. A
    subscription topic created after the start was such a topic: the metadata of the others
    went missing, so changelog writes (partitioned by the producer) raised and sends waiting
    for a leader failed. The producer now tracks all its topics from the start, and each new
    one before its first record.
    """

    def __init__(self, *args: Any, topics: Callable[[], Iterable[str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffer.max_messages = PENDING_TABLE_WRITES
        self.topics = topics
        """Every topic the app writes to (its tables' changelogs included)."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {"acks": "all", "enable_idempotence": True}

    async def on_start(self) -> None:
        await super().on_start()
        client = self._ensure_producer().client
        for topic in self.topics():  # some may not exist yet: known once they do
            client.add_topic(topic)

    async def track(self, topics: Iterable[str]) -> None:
        """Keep the metadata of ``topics`` beside the others and wait until it is known."""
        producer = self._ensure_producer()
        wanted = list(topics)
        for topic in wanted:  # all added before the refresh runs, so it asks for all
            producer.client.add_topic(topic)
        for topic in wanted:
            await producer.partitions_for(topic)

    def send_soon(self, fut: FutureMessage) -> None:
        # Table changelog records come this way: they count for the events in hand.
        note_sent(fut)
        super().send_soon(fut)


class RewindingConsumer(Consumer):
    """Faust's consumer, made to re-read every record a rebalance may have dropped.

    After a rebalance, Faust's table recovery resumes the stream partitions while the fetcher
    already runs (for the changelogs), seeks them to their committed offsets, then clears the
    stream queues. Records fetched before the seek and still being handed over after it moved
    the consumer's read offsets past the records the queues then lost: the chaos tests saw
    one record skipped (its offset committed over) and, with two skipped, a partition whose
    offsets were never committed again. Here the flow stops before the seek, so nothing
    fetched before it is handed over after it; the flow resumes when recovery is done.

    aiokafka's seek also leaves a partition the group never committed where fetching left it
    (it seeks only to committed offsets above 0), so records fetched and dropped during a
    rebalance would be skipped for good: such partitions go back to their beginning.

    It also hands over the fast lane's fetched records before any other (``_getmany``).
    """

    stopping = False
    first_topics: frozenset[str] = frozenset()
    """Topics whose fetched records are handed over before any other's (the fast lane)."""

    async def on_stop(self) -> None:
        self.stopping = True
        await super().on_stop()

    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> Any:
        """Records of the first topics where any are fetched, else of every partition.

        aiokafka hands over fetched records partition by partition, in the order they were
        fetched: an urgent record fetched after a queue's records would wait until Faust
        has handed all of those to their agents."""
        first = {tp for tp in active_partitions or () if tp.topic in self.first_topics}
        if first:
            records = await super()._getmany(first, 0.0)
            if records:
                return records
        return await super()._getmany(active_partitions, timeout)

    async def wait_empty(self) -> None:
        """At a rebalance, until every event in hand is acked; when stopping, for a while
        only: what is still unacked then is left uncommitted and read again after the
        restart, instead of holding the stop until the worker is killed."""
        if not self.stopping:
            await super().wait_empty()
            return
        try:
            await asyncio.wait_for(super().wait_empty(), STOP_WAIT_S)
        except TimeoutError:
            log.warning("stopping with unacked events: they are read again after the restart")
            await self.commit_and_end_transactions()

    async def perform_seek(self) -> None:
        self.stop_flow()
        await super().perform_seek()

    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = await super().seek_to_committed()
        never = [tp for tp, at in committed.items() if not at and not self._is_changelog_tp(tp)]
        if never:
            await self._thread.seek_to_beginning(*never)
        return committed


Verdict = Literal["publish", "replayed", "reroute", "redelivery", "stale"]
"""What the publish guard says of a decided version: put it out; nothing (the same item's
version is out everywhere); its subscriptions again (it is known only from the read-back);
a notice (the version is out for another item); a notice (a newer version is out)."""


class PublishedVersions:
    """Which item put out each version of a story uri, and which subscriptions received the
    story, forgotten after the retention window (an entry: ``[newest, at, versions,
    subscriptions]``).

    Three memories: the table, written once a version is on every topic it goes to (main feed
    and subscriptions); the versions of the batch in hand; and the read-back, which knows only
    that a version reached ``stories.structured``.
    """

    def __init__(self, table: Any, retention: timedelta) -> None:
        self.table, self.retention = table, retention
        self.recent: dict[bytes, dict[str, str]] = {}
        self.recent_at: dict[tuple[bytes, str], float] = {}
        self.in_hand: dict[bytes, dict[str, str]] = {}
        self.read_back_done = asyncio.Event()
        """Publishing waits for this: streams resume while the read-back may still run."""
        self.read_back_done.set()  # until the first assignment there is nothing to read
        self._last_sweep = time.monotonic()

    def verdict(self, key: bytes, version: int, item_id: str) -> Verdict:
        routed = {**_versions(self.table.get(key)), **self.in_hand.get(key, {})}
        read_back = self.recent.get(key, {})
        wanted = str(version)
        out_for = routed.get(wanted, read_back.get(wanted))
        if out_for is None:
            newest = max((int(v) for v in [*routed, *read_back]), default=0)
            return "stale" if newest > version else "publish"
        if out_for not in ("", item_id):
            return "redelivery"
        return "replayed" if wanted in routed else "reroute"

    def out_at(self, key: bytes, version: int) -> float | None:
        """When the read-back saw this version written to the main feed, if it did."""
        return self.recent_at.get((key, str(version)))

    def claim(self, key: bytes, version: int, item_id: str) -> None:
        """The version goes out in the batch in hand (a replay within it is ``replayed``)."""
        self.in_hand.setdefault(key, {})[str(version)] = item_id

    def receivers(self, key: bytes) -> list[str]:
        """The subscriptions that received any version of the story."""
        entry = self.table.get(key)
        return list(entry[3]) if entry and len(entry) > 3 else []

    def remember(self, key: bytes, version: int, item_id: str, receivers: Iterable[str]) -> None:
        """The version is on every topic it goes to (``receivers``: its subscriptions)."""
        versions = _versions(self.table.get(key)) | {str(version): item_id}
        newest = max(int(v) for v in versions)
        subscribers = sorted({*self.receivers(key), *receivers})
        self.table[key] = [newest, time.time(), versions, subscribers]
        in_hand = self.in_hand.get(key)
        if in_hand is not None:
            in_hand.pop(str(version), None)
            if not in_hand:
                del self.in_hand[key]
        if time.monotonic() - self._last_sweep > SWEEP_INTERVAL_S:
            cutoff = time.time() - self.retention.total_seconds()
            for old in [k for k, entry in self.table.items() if entry[1] < cutoff]:
                del self.table[old]
            self._last_sweep = time.monotonic()

    async def read_back(self, settings: Settings, topic: str, partitions: Iterable[int]) -> None:
        """Learn the versions among the newest records of these partitions of ``topic``."""
        self.read_back_done.clear()
        try:
            wanted = [TopicPartition(topic, p) for p in partitions]
            stories = await recent_stories(settings, wanted) if wanted else []
            self.recent = versions_of(stories)
            self.recent_at = {(key, _version(story)): at for key, story, at in stories}
            log.info("read back %d published stories from %s", len(self.recent), topic)
        finally:
            self.read_back_done.set()


def _versions(entry: Any) -> dict[str, str]:
    """version -> item id of a table entry ``[newest, at, versions]``; an entry written before
    the items were kept knows its newest version only (its item: unknown, "")."""
    if not entry:
        return {}
    return dict(entry[2]) if len(entry) > 2 else {str(entry[0]): ""}


RecentStory = tuple[bytes, dict[str, Any], float]
"""A published record read back: its uri, its story, when it was written (epoch seconds)."""


async def recent_versions(
    settings: Settings, partitions: list[TopicPartition]
) -> dict[bytes, dict[str, str]]:
    """uri -> version -> the item it was published for, among the last ``RECENT_OUTPUT``
    records of each partition."""
    return versions_of(await recent_stories(settings, partitions))


def versions_of(stories: list[RecentStory]) -> dict[bytes, dict[str, str]]:
    """uri -> version -> the item it was published for, of these records."""
    found: dict[bytes, dict[str, str]] = {}
    for key, story, _ in stories:
        found.setdefault(key, {})[_version(story)] = str(
            story.get("newswire", {}).get("itemId", "")
        )
    return found


def _version(story: dict[str, Any]) -> str:
    return str(story.get("version", 0))


async def recent_stories(settings: Settings, partitions: list[TopicPartition]) -> list[RecentStory]:
    """(uri, story, when it was written, in epoch seconds) of the last ``RECENT_OUTPUT``
    records of each partition, oldest first within a partition."""
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        enable_auto_commit=False,
        max_partition_fetch_bytes=settings.max_item_bytes * 2,
        fetch_max_bytes=settings.max_item_bytes * 4,
    )
    await consumer.start()
    found: list[RecentStory] = []
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
                    found.append((record.key, orjson.loads(record.value), record.timestamp / 1000))
    finally:
        await consumer.stop()
    return found
