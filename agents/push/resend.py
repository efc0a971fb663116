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
from datetime import datetime

import aiohttp
import orjson

from agents.kafka.clients import batches_to_end, started_producer
from agents.kafka.topics import TopicNames, subscription_topic
from agents.observe.metrics import Metrics
from agents.push.runner import BATCH, REQUEST_TIMEOUT_S, Pusher
from pipeline.config import Settings
from pipeline.delivery.push import PushTarget
from pipeline.subscriptions import Subscription


async def push_target_of(settings: Settings, name: str) -> PushTarget | None:
    """The push target saved for ``name`` now (the last command on the compacted command
    topic), or None if it is not saved or has no push."""
    latest: dict[str, bytes | None] = {}
    topic = TopicNames.for_settings(settings).subscription_commands
    async for batch in batches_to_end(settings, topic):
        latest.update((r.key.decode(), r.value) for r in batch if r.key is not None)
    stored = orjson.loads(latest.get(name) or b"null")
    return Subscription.from_stored(name, stored).push if isinstance(stored, dict) else None


async def resend(settings: Settings, name: str, target: PushTarget, since: datetime) -> int:
    """Deliver ``name``'s records from ``since`` to ``target`` again; how many there were.
    A fetched batch is delivered before the next is read, so a story's records keep their
    order."""
    producer = await started_producer(settings)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    count = 0
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            pusher = Pusher(settings, Metrics(settings), name, target, session, producer)
            topic = subscription_topic(settings, name)
            async for batch in batches_to_end(settings, topic, since, BATCH):
                await pusher.deliver_in_order(batch)
                count += len(batch)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()
    return count
