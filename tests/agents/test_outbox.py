"""Acknowledged delivery without a broker: events are acked only once their records are,
failed records are sent again, the worker says why it is unready, and the publish guard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import faust
import pytest
from aiokafka.errors import MessageSizeTooLargeError
from faust.types.tuples import FutureMessage

from agents.kafka.delivery import PublishedVersions
from agents.kafka.outbox import Batch, DeliveryHealth, Outbox, Record, note_sent, prepared
from agents.observe.metrics import Metrics
from pipeline.config import Settings


class FlakyProducer:
    """Refuses the first ``failures`` sends, then takes every one."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[tuple[str, bytes]] = []

    async def send_and_wait(self, topic: str, key: bytes, value: bytes, **extra: Any) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker away")
        self.sent.append((topic, value))


class ListStream:
    """A stream of given events, then none (it stays open), that records which were acked."""

    def __init__(self, events: list[str]) -> None:
        self.items, self.acked = events, []

    def noack(self) -> ListStream:
        return self

    async def events(self) -> AsyncIterator[str]:
        for event in self.items:
            yield event
        await asyncio.Event().wait()

    async def noack_take(self, size: int, within: float) -> AsyncIterator[list[str]]:
        for start in range(0, len(self.items), size):
            yield self.items[start : start + size]
        await asyncio.Event().wait()

    async def ack(self, event: str) -> bool:
        self.acked.append(event)
        return True


@pytest.fixture()
def topic() -> faust.TopicT:
    app = faust.App("outbox-test", store="memory://")
    return app.topic("stories", key_type=bytes, value_type=bytes, value_serializer="raw")


def outbox_with(
    producer: FlakyProducer,
    health: DeliveryHealth,
    crashes: list[Any],
    metrics: Metrics | None = None,
) -> Outbox:
    async def crash(error: BaseException) -> None:
        crashes.append(error)

    metrics = metrics or Metrics(Settings.load({}))
    return Outbox(lambda: producer, crash, health, metrics, unready_after_s=0.05)  # type: ignore[arg-type, return-value]


def failed(topic: faust.TopicT, value: bytes) -> FutureMessage:
    fut = topic.as_future_message(key=b"k", value=value)
    fut.set_exception(ConnectionError("not acknowledged"))
    return fut


async def test_a_failed_record_is_sent_again_until_the_broker_takes_it(
    topic: faust.TopicT, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agents.kafka.outbox.FIRST_BACKOFF_S", 0.01)
    producer, health, metrics = (
        FlakyProducer(failures=2),
        DeliveryHealth(),
        Metrics(Settings.load({})),
    )
    outbox = outbox_with(producer, health, [], metrics)
    reasons: list[str | None] = []

    async def watch() -> None:
        while True:
            reasons.append(health.reason)
            await asyncio.sleep(0.005)

    watcher = asyncio.ensure_future(watch())
    await outbox.confirm([failed(topic, b"story")])
    watcher.cancel()
    assert producer.sent == [("stories", b"story")]
    assert any(r and "sending to stories failed" in r for r in reasons)
    assert health.reason is None  # ready again once it went out
    # The first failure and the two resends that failed, as /metrics counts them.
    assert metrics.send_failures.labels(metrics.worker, "stories")._value.get() == 3


async def test_a_record_waiting_too_long_makes_the_worker_unready_until_it_is_acknowledged(
    topic: faust.TopicT,
) -> None:
    health = DeliveryHealth()
    outbox = outbox_with(FlakyProducer(0), health, [])
    waiting = topic.as_future_message(key=b"k", value=b"v")
    confirming = asyncio.ensure_future(outbox.confirm([waiting]))
    await asyncio.sleep(0.1)
    assert health.reason == "1 records not acknowledged by the broker in 0 s"
    waiting.set_result(None)  # type: ignore[arg-type]
    await confirming
    assert health.reason is None


async def test_events_are_acked_only_once_their_records_are(topic: faust.TopicT) -> None:
    stream = ListStream(["first", "second"])
    outbox = outbox_with(FlakyProducer(0), DeliveryHealth(), [])
    records: dict[str, FutureMessage] = {}

    async def handle(events: Any) -> None:
        (event,) = events
        records[event] = topic.as_future_message(key=b"k", value=event.encode())
        note_sent(records[event])

    consuming = asyncio.ensure_future(outbox.consume(stream, handle))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert stream.acked == []
    records["second"].set_result(None)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert stream.acked == []  # in order: the first still waits
    records["first"].set_result(None)  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert stream.acked == ["first", "second"]
    consuming.cancel()


async def test_a_handler_that_raises_stops_the_worker_and_leaves_its_event_unacked() -> None:
    stream, crashes = ListStream(["poison"]), []
    outbox = outbox_with(FlakyProducer(0), DeliveryHealth(), crashes)

    async def handle(events: Any) -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        await outbox.consume(stream, handle)  # type: ignore[arg-type]
    assert [str(error) for error in crashes] == ["a bug"]
    assert stream.acked == []


async def test_a_record_a_stage_fails_on_gets_its_dead_letter_and_the_rest_go_on(
    topic: faust.TopicT,
) -> None:
    """A batch that raises is taken one record at a time: the good ones are handled and
    acked, the poison one goes to quarantine, and the worker never stops."""
    stream, crashes = ListStream(["good", "poison", "after"]), []
    outbox = outbox_with(FlakyProducer(0), DeliveryHealth(), crashes)
    handled: list[str] = []
    quarantined: list[tuple[str, str]] = []

    async def handle(events: Any) -> None:
        if "poison" in events:
            raise ValueError("a bug")
        handled.extend(events)

    async def quarantine(event: Any, error: BaseException) -> None:
        quarantined.append((event, str(error)))

    consuming = asyncio.ensure_future(
        outbox.consume(stream, handle, size=3, within=0.01, quarantine=quarantine)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.1)
    consuming.cancel()
    assert quarantined == [("poison", "a bug")]
    assert "good" in handled and "after" in handled
    assert crashes == []
    assert stream.acked == ["good", "poison", "after"]


async def test_a_batch_is_prepared_while_the_one_before_it_is_handled() -> None:
    stream = ListStream(["a", "b", "c", "d"])
    outbox = outbox_with(FlakyProducer(0), DeliveryHealth(), [])
    prepared: list[list[str]] = []
    next_one_started = asyncio.Event()
    handled: list[list[str]] = []

    async def prepare(events: Any) -> list[str]:
        prepared.append(list(events))
        if len(prepared) == 2:
            next_one_started.set()
        return [event.upper() for event in events]

    async def handle(events: Any) -> None:
        assert isinstance(events, Batch)
        # The first batch is not done until the second is being prepared.
        await asyncio.wait_for(next_one_started.wait(), 1.0)
        handled.append(await events.started)

    consuming = asyncio.ensure_future(
        outbox.consume(stream, handle, size=2, within=0.01, prepare=prepare)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.1)
    consuming.cancel()
    assert handled == [["A", "B"], ["C", "D"]]  # in the order taken
    assert stream.acked == ["a", "b", "c", "d"]


async def test_a_batch_whose_preparation_fails_is_handled_one_record_at_a_time() -> None:
    stream, crashes = ListStream(["good", "poison", "after"]), []
    outbox = outbox_with(FlakyProducer(0), DeliveryHealth(), crashes)
    handled: list[str] = []
    quarantined: list[str] = []

    async def prepare(events: Any) -> list[str]:
        if "poison" in events:
            raise ValueError("unreadable")
        return list(events)

    async def handle(events: Any) -> None:
        handled.extend(await prepared(events, prepare))

    async def quarantine(event: Any, error: BaseException) -> None:
        quarantined.append(event)

    consuming = asyncio.ensure_future(
        outbox.consume(stream, handle, 3, 0.01, quarantine, prepare)  # type: ignore[arg-type]
    )
    await asyncio.sleep(0.1)
    consuming.cancel()
    assert (handled, quarantined, crashes) == (["good", "after"], ["poison"], [])
    assert stream.acked == ["good", "poison", "after"]


async def test_a_record_the_broker_refuses_for_good_is_replaced_by_its_dead_letter(
    topic: faust.TopicT, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("agents.kafka.outbox.FIRST_BACKOFF_S", 0.01)
    producer, health = FlakyProducer(0), DeliveryHealth()
    outbox = outbox_with(producer, health, [])
    instead: list[Record] = []

    def refused(record: Record, error: BaseException) -> Record:
        instead.append(record)
        return Record("wire.rejected", record.key, b"dead letter")

    outbox.refused = refused
    huge = topic.as_future_message(key=b"k", value=b"x" * 100)
    huge.set_exception(MessageSizeTooLargeError("over the limit"))
    await outbox.confirm([huge])
    assert [record.value for record in instead] == [b"x" * 100]
    assert producer.sent == [("wire.rejected", b"dead letter")]  # sent once, never retried
    assert health.reason is None


def test_the_guard_tells_replays_from_other_items_and_late_versions() -> None:
    published = PublishedVersions({}, timedelta(days=7))
    uri = b"urn:newswire:story:1"
    assert published.verdict(uri, 1, "a") == "publish"
    published.claim(uri, 1, "a")
    assert published.verdict(uri, 1, "a") == "replayed"  # the same item in the same batch
    published.remember(uri, 1, "a", [])
    published.remember(uri, 2, "b", [])
    assert published.verdict(uri, 1, "a") == "replayed"  # replayed after the newer version
    assert published.verdict(uri, 2, "c") == "redelivery"  # version 2 is out for b
    assert published.verdict(uri, 1, "d") == "redelivery"
    assert published.verdict(b"urn:newswire:story:2", 1, "e") == "publish"


def test_the_guard_re_routes_a_version_known_only_from_the_read_back() -> None:
    published = PublishedVersions({}, timedelta(days=7))
    uri = b"urn:newswire:story:1"
    published.recent = {uri: {"1": "a", "3": "c"}}
    assert published.verdict(uri, 1, "a") == "reroute"  # its subscriptions may lack it
    assert published.verdict(uri, 2, "b") == "stale"  # never out, and version 3 is
    assert published.verdict(uri, 3, "x") == "redelivery"


def test_the_guard_reads_entries_written_before_items_were_kept() -> None:
    uri = b"urn:newswire:story:1"
    published = PublishedVersions({uri: [2, 0.0]}, timedelta(days=7))
    assert published.verdict(uri, 2, "any") == "replayed"
    assert published.verdict(uri, 1, "any") == "stale"
