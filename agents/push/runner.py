"""Push delivery: for every subscription with a ``push`` target, a consumer of its topic
(``subscriptions.<name>``, group ``<app id>-push-<name>``) POSTs each record to the target.

The subscription topic is the durable queue: a partition's offset is committed only once its
records are delivered (or refused by the receiver for good), so a killed worker sends them
again with the same idempotency key and loses nothing. Records of one story share a key and
so a partition; they go one after another, so later versions of a story wait behind it,
while other stories go side by side. Timeouts, refused connections, 408, 425,
429 and 5xx are tried again with capped, jittered back-off (``Retry-After`` honoured) for as
long as it takes; any other 4xx is recorded on ``newswire.push.failures`` and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import random
import socket
import time
from collections.abc import Awaitable, Callable, Collection
from typing import cast
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)

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
BATCH = 500
IN_FLIGHT = 64
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
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("push %s stopped (%r); starting it again", name, task.exception())
            if wanted.get(name) != target or task.done():
                task.cancel()
                del self.running[name]
        for name, target in wanted.items():
            if name not in self.running:
                pusher = Pusher(self.settings, self.metrics, name, target, session, producer)
                self.running[name] = (target, asyncio.ensure_future(pusher.run()))


class Pusher:
    """One subscription's deliveries.

    Each partition's fetched batch is delivered story by story: the records of one story one
    after another, different stories side by side (at most ``IN_FLIGHT`` requests at once).
    The partition is paused until its batch is delivered and committed, so that a story's
    next version never overtakes this one; the other partitions go on meanwhile. A partition
    taken away in a rebalance has its deliveries cancelled first: its next owner sends them
    again, in order, with the same keys."""

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
        self.slots = asyncio.Semaphore(IN_FLIGHT)
        self.in_flight: dict[TopicPartition, tuple[float, asyncio.Task[None]]] = {}

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            **client_options(self.settings),
            group_id=f"{self.settings.faust_id}-push-{self.name}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=self.settings.max_item_bytes * 2,
        )
        consumer.subscribe(
            [subscription_topic(self.settings, self.name)], listener=_Revoked(self.cancel)
        )
        await consumer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=BATCH)
                for tp, records in batches.items():
                    consumer.pause(tp)
                    task = asyncio.ensure_future(self._partition(consumer, tp, records))
                    self.in_flight[tp] = (records[0].timestamp / 1000, task)
                self._check_and_note()
        finally:
            await self.cancel(list(self.in_flight))
            with contextlib.suppress(Exception):
                await consumer.stop()

    async def cancel(self, partitions: Collection[TopicPartition]) -> None:
        """Stop delivering ``partitions`` (taken away, or the pusher stopping)."""
        tasks = [self.in_flight.pop(tp)[1] for tp in partitions if tp in self.in_flight]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _check_and_note(self) -> None:
        """Raise what a partition's delivery failed with (the pusher is then started again
        from the committed offsets), and note the age of the oldest undelivered record."""
        for _, task in self.in_flight.values():
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise cast(BaseException, task.exception())
        stamps = [stamp for stamp, _ in self.in_flight.values()]
        age = time.time() - min(stamps) if stamps else 0.0
        self.metrics.push_waiting(self.name, age)

    async def _partition(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[bytes, bytes]],
    ) -> None:
        await self.deliver_in_order(records)
        await consumer.commit({tp: records[-1].offset + 1})
        del self.in_flight[tp]
        consumer.resume(tp)

    async def deliver_in_order(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """Deliver a batch: each story's records one after another, the stories side by side."""
        await asyncio.gather(*(self._story(chain) for chain in by_story(records)))

    async def _story(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        for record in records:
            await self.deliver(record.value or b"{}")

    async def deliver(self, value: bytes) -> None:
        """POST one record until the receiver takes it or refuses it for good."""
        story = orjson.loads(value)
        attempt = 0
        while True:
            async with self.slots:
                status, answer, retry_after = await self._post(story, value)
            outcome = outcome_of(status)
            self.metrics.pushed(self.name, outcome if outcome != "retry" else "retried")
            if outcome == "failed":
                await self._record_failure(story, status or 0, answer)
            if outcome != "retry":
                return
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


class _Revoked(ConsumerRebalanceListener):  # type: ignore[misc]
    """Cancels the deliveries of partitions taken away before they go to another owner."""

    def __init__(self, cancel: Callable[[Collection[TopicPartition]], Awaitable[None]]) -> None:
        self.cancel = cancel

    async def on_partitions_revoked(self, revoked: Collection[TopicPartition]) -> None:
        await self.cancel(revoked)

    async def on_partitions_assigned(self, assigned: Collection[TopicPartition]) -> None:
        return None


def by_story(
    records: list[ConsumerRecord[bytes, bytes]],
) -> list[list[ConsumerRecord[bytes, bytes]]]:
    """A batch's records grouped by story (their key), each group in its order."""
    stories: dict[bytes | int, list[ConsumerRecord[bytes, bytes]]] = {}
    for record in records:
        stories.setdefault(record.key if record.key is not None else record.offset, []).append(
            record
        )
    return list(stories.values())


async def _addresses(url: str) -> list[str]:
    """What the URL's host resolves to now, so that a name moved to an internal address is
    caught at the send."""
    host = urlsplit(url).hostname or ""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host))]  # an address: nothing to look up
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(entry[4][0]) for entry in found})
