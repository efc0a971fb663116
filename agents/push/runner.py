"""Push delivery: for every subscription with a ``push`` target, a consumer of its topic
(``subscriptions.<name>``, group ``<app id>-push-<name>``) POSTs each record to the target.

The subscription topic is the durable queue: a partition's offset is committed only once its
records are delivered (or refused by the receiver for good), so a killed worker sends them
again with the same idempotency key and loses nothing. Records of one story share a key and
so a partition, and a partition's records go one after another: later versions of a story
wait behind it, while the other partitions go on. Timeouts, refused connections, 408, 425,
429 and 5xx are tried again with capped, jittered back-off (``Retry-After`` honoured) for as
long as it takes; any other 4xx is recorded on ``newswire.push.failures`` and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from agents.kafka.clients import started_producer
from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames, headers, subscription_topic
from agents.observe.metrics import Metrics
from pipeline.config import Settings
from pipeline.delivery.push import (
    PushRefused,
    PushTarget,
    backoff,
    check_url,
    failure_record,
    outcome_of,
    request_for,
)
from pipeline.records import rfc3339, utc_now

log = logging.getLogger("newswire.push")
REQUEST_TIMEOUT_S = 10.0
WATCH_INTERVAL_S = 2.0
Targets = Callable[[], dict[str, PushTarget]]


class Pushes:
    """The pushers of the saved push subscriptions, started and stopped as they change."""

    def __init__(self, settings: Settings, metrics: Metrics, targets: Targets) -> None:
        self.settings, self.metrics, self.targets = settings, metrics, targets
        self.running: dict[str, tuple[PushTarget, asyncio.Task[None]]] = {}

    async def run(self) -> None:
        producer = await started_producer(self.settings)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                while True:
                    self._follow(session, producer)
                    await asyncio.sleep(WATCH_INTERVAL_S)
        finally:
            for _, task in self.running.values():
                task.cancel()
            await producer.stop()

    def _follow(self, session: aiohttp.ClientSession, producer: AIOKafkaProducer) -> None:
        wanted = self.targets()
        for name, (target, task) in list(self.running.items()):
            if wanted.get(name) != target or task.done():
                task.cancel()
                del self.running[name]
        for name, target in wanted.items():
            if name not in self.running:
                pusher = Pusher(self.settings, self.metrics, name, target, session, producer)
                self.running[name] = (target, asyncio.ensure_future(pusher.run()))


class Pusher:
    """One subscription's deliveries."""

    def __init__(
        self,
        settings: Settings,
        metrics: Metrics,
        name: str,
        target: PushTarget,
        session: aiohttp.ClientSession,
        producer: AIOKafkaProducer,
    ) -> None:
        self.settings, self.metrics, self.name, self.target = settings, metrics, name, target
        self.session, self.producer = session, producer
        self.rng = random.Random()
        self.failures = TopicNames.for_settings(settings).push_failures

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            subscription_topic(self.settings, self.name),
            **client_options(self.settings),
            group_id=f"{self.settings.faust_id}-push-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.settings.max_item_bytes * 2,
        )
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=1000, max_records=100)
                self._note_oldest(batches)
                await asyncio.gather(
                    *(self._partition(consumer, tp, records) for tp, records in batches.items())
                )
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _note_oldest(
        self, batches: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        stamps = [records[0].timestamp / 1000 for records in batches.values() if records]
        age = time.time() - min(stamps) if stamps else 0.0
        self.metrics.push_oldest_undelivered.labels(self.metrics.worker, self.name).set(age)

    async def _partition(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        for record in records:
            await self.deliver(record.value or b"{}")
            await consumer.commit({tp: record.offset + 1})

    async def deliver(self, value: bytes) -> None:
        """POST one record until the receiver takes it or refuses it for good."""
        story = orjson.loads(value)
        attempt = 0
        while True:
            status, answer, retry_after = await self._post(story, value)
            outcome = outcome_of(status)
            count = self.metrics.push_deliveries.labels
            if outcome == "delivered":
                count(self.metrics.worker, self.name, "delivered").inc()
                return
            if outcome == "failed":
                count(self.metrics.worker, self.name, "failed").inc()
                await self._record_failure(story, status or 0, answer)
                return
            count(self.metrics.worker, self.name, "retried").inc()
            await asyncio.sleep(backoff(attempt, retry_after, self.rng))
            attempt += 1

    async def _post(
        self, story: dict[str, object], value: bytes
    ) -> tuple[int | None, str, str | None]:
        """The receiver's status, answer and ``Retry-After``; no status where there was no
        answer. A destination the URL check refuses at send time is a 403 of our own."""
        try:
            check_url(self.target.url, await _addresses(self.target.url), self.settings.push_hosts)
        except PushRefused as refused:
            return 403, str(refused), None
        body, request_headers = request_for(self.target, self.name, story, value, time.time())
        try:
            async with self.session.post(
                self.target.url, data=body, headers=request_headers, allow_redirects=False
            ) as response:
                answer = (await response.text(errors="replace"))[:500]
                return response.status, answer, response.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("push %s: %r; trying again", self.name, error)
            return None, repr(error), None

    async def _record_failure(self, story: dict[str, object], status: int, answer: str) -> None:
        record = failure_record(self.name, story, status, answer, rfc3339(utc_now()))
        log.warning("push %s: the receiver refused %s with %d", self.name, story.get("uri"), status)
        while True:
            try:
                await self.producer.send_and_wait(
                    self.failures,
                    record,
                    key=self.name.encode(),
                    headers=list(headers(None).items()),
                )
                return
            except Exception as error:  # the broker away: the offset waits with the record
                log.warning("push %s: failure record not sent (%r)", self.name, error)
                await asyncio.sleep(1.0)


async def _addresses(url: str) -> list[str]:
    """What the URL's host resolves to now, so that a name moved to an internal address is
    caught at the send."""
    host = urlsplit(url).hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(entry[4][0]) for entry in found})
