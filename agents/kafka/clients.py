"""Plain aiokafka clients for the CLI: producing raw items and reading a topic."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError

from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames
from pipeline.config import Settings
from pipeline.records import RawItem
from pipeline.validation import schema_header


class KafkaUnavailable(RuntimeError):
    """The broker cannot be reached; the message says where we looked and what to do."""


def unreachable(settings: Settings) -> KafkaUnavailable:
    """Why no client could connect: nothing listens, or something listens and refused us
    (security protocol or credentials)."""
    if _port_open(settings.bootstrap.split(",")[0]):
        sasl = (
            f", {settings.kafka_sasl_mechanism} as {settings.kafka_sasl_username!r}"
            if settings.kafka_security_protocol.startswith("SASL")
            else ""
        )
        return KafkaUnavailable(
            f"the broker at {settings.bootstrap} refused the connection "
            f"({settings.kafka_security_protocol}{sasl}): check NEWSWIRE_KAFKA_SECURITY_PROTOCOL "
            "and the SASL or TLS settings (a wrong password fails authentication this way)"
        )
    hint = (
        "start one with `newswire kafka up`"
        if settings.uses_local_broker
        else "check NEWSWIRE_KAFKA_BOOTSTRAP"
    )
    return KafkaUnavailable(f"no Kafka broker answers at {settings.bootstrap}: {hint}")


def _port_open(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class SendReport:
    sent: int
    failures: list[tuple[str, str]]


RAW_HEADERS = [
    ("content-type", b"application/json"),
    ("schema", schema_header("raw-item").encode()),
]


async def started_producer(settings: Settings) -> AIOKafkaProducer:
    """A producer that counts a record as sent only once every replica has it (acks=all,
    idempotent, so its retries never duplicate a record)."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    producer = AIOKafkaProducer(
        **client_options(settings),
        acks="all",
        enable_idempotence=True,
        max_request_size=settings.max_item_bytes * 2,
        request_timeout_ms=30000,
    )
    try:
        await producer.start()
    except KafkaConnectionError:
        await producer.stop()
        raise unreachable(settings) from None
    return producer


async def produce_raw_items(
    producer: AIOKafkaProducer, topic: str, items: Iterable[RawItem]
) -> SendReport:
    """Produce raw items to ``topic`` and wait for each acknowledgement."""
    pending: list[tuple[RawItem, asyncio.Future[object]]] = []
    failures: list[tuple[str, str]] = []
    for item in items:
        try:
            future = await producer.send(
                topic, value=item.to_json(), key=item.key.encode(), headers=RAW_HEADERS
            )
        except KafkaError as error:
            failures.append((item.id, str(error)))
            continue
        pending.append((item, future))
    results = await asyncio.gather(*(future for _, future in pending), return_exceptions=True)
    for (item, _), result in zip(pending, results, strict=True):
        if isinstance(result, BaseException):
            failures.append((item.id, f"not acknowledged by the broker: {result}"))
    return SendReport(
        sent=len(pending) - sum(isinstance(r, BaseException) for r in results), failures=failures
    )


async def send_raw_items(settings: Settings, items: Iterable[RawItem]) -> SendReport:
    """Produce raw items to ``wire.raw`` with a producer of their own."""
    producer = await started_producer(settings)
    try:
        return await produce_raw_items(producer, TopicNames.for_settings(settings).raw, items)
    finally:
        await producer.stop()


def render_record(value: bytes | None) -> str:
    """One JSON line for a record value: JSON as it is, anything else as a JSON string."""
    if value is None:
        return "null"
    try:
        return orjson.dumps(orjson.loads(value)).decode()
    except orjson.JSONDecodeError:
        return orjson.dumps(value.decode("utf-8", "replace")).decode()


async def read_topic(
    settings: Settings,
    topic: str,
    emit: Callable[[bytes | None], bool],
    *,
    from_beginning: bool,
    idle_timeout: float | None,
) -> None:
    """Call ``emit`` with each record value of every partition of ``topic`` until it returns
    False, or until ``idle_timeout`` seconds pass without a record."""
    consumer = await started_consumer(settings, "earliest" if from_beginning else "latest")
    try:
        if topic not in await consumer.topics():
            raise KafkaUnavailable(f"topic {topic} does not exist")
        consumer.subscribe([topic])
        last = time.monotonic()
        while idle_timeout is None or time.monotonic() - last < idle_timeout:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    last = time.monotonic()
                    if not emit(record.value):
                        return
    finally:
        await consumer.stop()


async def started_consumer(settings: Settings, offset_reset: str) -> AIOKafkaConsumer:
    """A group-less consumer: it commits nothing and starts where ``offset_reset`` says."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset=offset_reset,
        max_partition_fetch_bytes=settings.max_item_bytes * 2,
    )
    try:
        await consumer.start()
    except KafkaConnectionError:
        await consumer.stop()
        raise unreachable(settings) from None
    return consumer


@dataclass(frozen=True)
class Outcome:
    """Where a raw item ended: ``published`` (value: the story), ``duplicate`` or ``rejected``."""

    status: str
    value: dict[str, object]


async def send_and_collect(
    settings: Settings, items: list[RawItem], timeout: float
) -> tuple[SendReport, dict[str, Outcome]]:
    """Send ``items`` and wait until each one's outcome appears (or ``timeout`` passes).

    The outcome topics are read from their ends as they were before sending, so only what
    these items caused is seen.
    """
    names = TopicNames.for_settings(settings)
    status_of = {
        names.structured: "published",
        names.duplicates: "duplicate",
        names.advisories: "advisory",
        names.rejected: "rejected",
    }
    consumer = await started_consumer(settings, "latest")
    wanted = {item.id for item in items}
    outcomes: dict[str, Outcome] = {}
    try:
        consumer.subscribe(list(status_of))
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        for partition in consumer.assignment():
            await consumer.position(partition)  # fixes the start before anything is sent
        report = await send_raw_items(settings, items)
        deadline = time.monotonic() + timeout
        while wanted - outcomes.keys() and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for partition, records in batches.items():
                for record in records:
                    value = orjson.loads(record.value) if record.value else {}
                    nested = value.get("newswire", value)
                    item_id = nested.get("itemId") if isinstance(nested, dict) else None
                    if item_id in wanted:
                        outcomes[item_id] = Outcome(status_of[partition.topic], value)
    finally:
        await consumer.stop()
    return report, outcomes


async def partitions_of(admin: AIOKafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    """Every partition of these topics, as the broker describes them."""
    described = await admin.describe_topics(topics)
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic["partitions"]
    ]


async def topic_partitions(settings: Settings, topic: str) -> list[TopicPartition]:
    """Every partition of ``topic`` (none if it does not exist)."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        return await partitions_of(admin, [topic])
    finally:
        await admin.close()


async def batches_to_end(
    settings: Settings, topic: str, since: datetime | None = None, batch: int = 500
) -> AsyncIterator[list[ConsumerRecord[bytes, bytes]]]:
    """The records of ``topic`` from ``since`` (else from its start) up to its end when this
    starts, in fetched batches of at most ``batch``; none if the topic does not exist."""
    partitions = await topic_partitions(settings, topic)
    if not partitions:
        return
    consumer = await started_consumer(settings, "earliest")
    try:
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
            fetched = await consumer.getmany(timeout_ms=500, max_records=batch)
            records = [r for tp, got in fetched.items() for r in got if r.offset < ends[tp]]
            if records:
                yield records
    finally:
        await consumer.stop()


async def group_caught_up(settings: Settings) -> bool:
    """The worker group has committed everything on wire.raw and the internal topics."""
    names = TopicNames.for_settings(settings)
    admin = AIOKafkaAdminClient(**client_options(settings))
    consumer = AIOKafkaConsumer(**client_options(settings))
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(settings.faust_id)
        partitions = await partitions_of(admin, [names.raw, names.cleaned, names.unique])
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
        await admin.close()
    return bool(ends) and all(
        (committed[tp].offset if tp in committed else 0) >= end for tp, end in ends.items()
    )
