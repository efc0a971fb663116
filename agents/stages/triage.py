"""The triage: flash and bulletin records of ``wire.raw`` copied to the fast lane as they
arrive, however long the queue of routine records before them.

A Faust agent reads a partition in order, so an urgent record would wait behind every routine
record before it. The triage is a consumer of its own (group ``<id>-triage``) that only peeks
at each record (``pipeline.triage``) and copies the urgent ones; it keeps up with any
producer. The routine lane still handles every record in its place, so the fast lane only
ever gets there first: whichever lane decides an item first decides it, the other's copy is
known to dedup by its item id, and publishing puts nothing out twice. Nothing depends on the
triage: if it fails, urgent items wait in the routine lane as before, and it starts again.
"""

from __future__ import annotations

import asyncio
import logging
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from agents.kafka.clients import started_producer
from agents.kafka.security import client_options
from agents.observe.metrics import Metrics
from agents.stages.lanes import FastLane
from pipeline.config import Settings
from pipeline.triage import in_fast_lane

log = logging.getLogger("newswire.triage")
PEEK_RECORDS = 500
"""Records peeked at per turn of the event loop (about 10 ms)."""
RETRY_S = 5.0
PEEK_COMMIT_S = 5.0


class Triage:
    def __init__(
        self,
        settings: Settings,
        raw_topic: str,
        urgent_topic: str,
        metrics: Metrics,
        fast_lane: FastLane,
    ) -> None:
        self.settings, self.metrics, self.fast_lane = settings, metrics, fast_lane
        self.raw_topic, self.urgent_topic = raw_topic, urgent_topic
        self._committed_at = time.monotonic()

    async def run(self) -> None:
        """Copy urgent records for as long as the worker runs; after a failure, again."""
        while True:
            try:
                await self._copy_forever()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.metrics.count("triage", "failed")
                log.exception("the triage failed; urgent items take the routine lane meanwhile")
                await asyncio.sleep(RETRY_S)

    async def _copy_forever(self) -> None:
        consumer = AIOKafkaConsumer(
            self.raw_topic,
            **client_options(self.settings),
            group_id=f"{self.settings.faust_id}-triage",
            enable_auto_commit=False,
            # A new group starts at the end: what came before is the routine lane's.
            auto_offset_reset="latest",
            max_partition_fetch_bytes=self.settings.max_item_bytes * 2,
            session_timeout_ms=10000,
        )
        producer: AIOKafkaProducer | None = None
        await consumer.start()
        try:
            producer = await started_producer(self.settings)
            while True:
                await self._copy_batch(consumer, producer)
        finally:
            await consumer.stop()
            if producer is not None:
                await producer.stop()

    async def _copy_batch(self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        batches = await consumer.getmany(timeout_ms=500, max_records=PEEK_RECORDS)
        if not batches:
            return
        pending = [
            await producer.send(
                self.urgent_topic, value=record.value, key=record.key, headers=list(record.headers)
            )
            for records in batches.values()
            for record in records
            if record.value is not None and in_fast_lane(record.value)
        ]
        await asyncio.gather(*pending)
        # After copies at once, so that a crash copies nothing again; after peeks alone
        # now and then, since a crash then costs only peeking at them again.
        if pending or time.monotonic() - self._committed_at > PEEK_COMMIT_S:
            await consumer.commit()
            self._committed_at = time.monotonic()
        if pending:
            self.fast_lane.note_urgent()
            self.metrics.count("triage", "fast-lane", len(pending))
