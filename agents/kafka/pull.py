"""Reading a subscription's topic for the pull API: from a cursor's positions, the next
records of every partition, waiting for them up to a bound (long-polling)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from agents.kafka.security import client_options
from pipeline.config import Settings


async def read_after(
    settings: Settings, topic: str, positions: dict[int, int], limit: int, wait_s: float
) -> tuple[list[bytes], dict[int, int]]:
    """Up to ``limit`` record values after ``positions`` (partition -> next offset; a
    partition not named starts at its beginning), in offset order per partition, and the
    positions after them."""
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=settings.max_item_bytes * 2,
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # a topic made a moment ago
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        for tp in tps:
            if tp.partition in positions:
                consumer.seek(tp, positions[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        return await _next(consumer, tps, limit, wait_s)
    finally:
        await consumer.stop()


async def _next(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], limit: int, wait_s: float
) -> tuple[list[bytes], dict[int, int]]:
    found: list[bytes] = []
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        left = max(0.0, deadline - asyncio.get_running_loop().time())
        batches = await consumer.getmany(
            *tps, timeout_ms=int(max(left, 0.2) * 1000), max_records=limit - len(found)
        )
        for tp in tps:
            for record in batches.get(tp, []):
                found.append(record.value or b"{}")
        if found or left <= 0:
            break
    positions = {tp.partition: await consumer.position(tp) for tp in tps}
    return found, positions
