"""``newswire subscriptions resend NAME --from TIME``: deliver a push subscription's records
again from a point in time, for a receiver that lost its data.

It reads the subscription's topic from the first record at or after ``TIME`` up to the end
it has when the command starts, and delivers each record as the worker's pusher does (same
body, same idempotency key, each story's records in order, retried until the receiver takes
them). It runs beside the workers and leaves their consumer group alone, so their own
deliveries go on; a receiver that keys on ``Idempotency-Key`` keeps one copy of each.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from agents.kafka.clients import started_consumer, started_producer, topic_partitions
from agents.kafka.topics import TopicNames, subscription_topic
from agents.observe.metrics import Metrics
from agents.push.runner import BATCH, REQUEST_TIMEOUT_S, Pusher
from pipeline.config import Settings
from pipeline.delivery.push import PushTarget
from pipeline.subscriptions import Subscription


async def push_target_of(settings: Settings, name: str) -> PushTarget | None:
    """The push target saved for ``name`` now (the last command on the compacted command
    topic), or None if it is not saved or has no push."""
    consumer = await started_consumer(settings, "earliest")
    latest: dict[str, bytes | None] = {}
    try:
        topic = TopicNames.for_settings(settings).subscription_commands
        async for batch in _batches_to_end(settings, consumer, topic, None):
            latest.update((r.key.decode(), r.value) for r in batch if r.key is not None)
    finally:
        await consumer.stop()
    stored = orjson.loads(latest.get(name) or b"null")
    return Subscription.from_stored(name, stored).push if isinstance(stored, dict) else None


async def resend(settings: Settings, name: str, target: PushTarget, since: datetime) -> int:
    """Deliver ``name``'s records from ``since`` to ``target`` again; how many there were.
    A fetched batch is delivered before the next is read, so a story's records keep their
    order."""
    consumer = await started_consumer(settings, "earliest")
    producer = await started_producer(settings)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    count = 0
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            pusher = Pusher(settings, Metrics(settings), name, target, session, producer)
            topic = subscription_topic(settings, name)
            async for batch in _batches_to_end(settings, consumer, topic, since):
                await pusher.deliver_in_order(batch)
                count += len(batch)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
        await consumer.stop()
    return count


Records = list[ConsumerRecord[bytes, bytes]]


async def _batches_to_end(
    settings: Settings, consumer: AIOKafkaConsumer, topic: str, since: datetime | None
) -> AsyncIterator[Records]:
    """The records of ``topic`` from ``since`` (else from its start) to its end now, in
    fetched batches."""
    partitions = await topic_partitions(settings, topic)
    if not partitions:
        return
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    if since is None:
        await consumer.seek_to_beginning(*partitions)
    else:
        found = await consumer.offsets_for_times(
            {tp: int(since.timestamp() * 1000) for tp in partitions}
        )
        for tp in partitions:
            consumer.seek(tp, found[tp].offset if found[tp] is not None else ends[tp])
    while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
        fetched = await consumer.getmany(timeout_ms=500, max_records=BATCH)
        batch = [r for tp, got in fetched.items() for r in got if r.offset < ends[tp]]
        if batch:
            yield batch
