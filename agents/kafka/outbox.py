"""Acknowledged delivery: an input record is acked (so its offset may be committed) only once
the broker has acknowledged every record written for it, table changelog records included.

Every agent hands its stream to ``Outbox.consume``. While the agent's handler runs, each
record it writes (``Outbox.send``, and the changelog writes of
its tables, which the producer hands to ``note_sent``) is collected for the events in hand.
The events are acked in order by a task beside the agent once those records are
acknowledged. A record that fails is sent again, with backoff, until the broker takes it;
meanwhile the events behind it stay unacked, so a crash replays them, and the worker reports
itself unready with the reason. Nothing that fails is left unretrieved.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast

import faust
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTopicError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from faust.streams import Stream
from faust.types import EventT, ProducerT, StreamT
from faust.types.tuples import FutureMessage, PendingMessage

from agents.observe.metrics import Metrics

log = logging.getLogger("newswire.outbox")
IN_FLIGHT = 256
"""Batches of events waiting for their acknowledgements before the agent waits too."""
PREPARED_AHEAD = 2
"""Batches taken and waiting, their work started, while the one before them is handled (one
more may be taken, its work started, while it waits for room)."""
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 10.0

_collecting: ContextVar[list[FutureMessage] | None] = ContextVar("newswire_outbox", default=None)


def note_sent(fut: FutureMessage) -> None:
    """Count ``fut`` among the records of the events in hand (if an agent is running)."""
    pending = _collecting.get()
    if pending is not None:
        pending.append(fut)


class DeliveryHealth:
    """What ``/ready`` reports of delivery: every problem going on, by who has it."""

    def __init__(self) -> None:
        self.problems: dict[int, str] = {}

    @property
    def reason(self) -> str | None:
        return next(iter(self.problems.values()), None)


class Outbox:
    """The records written for the events in hand, and acking those events once they are
    acknowledged."""

    def __init__(
        self,
        producer: Callable[[], ProducerT],
        crash: Callable[[BaseException], Awaitable[None]],
        health: DeliveryHealth,
        metrics: Metrics,
        unready_after_s: float,
    ) -> None:
        self.producer, self.crash = producer, crash
        self.health, self.metrics = health, metrics
        self.unready_after_s = unready_after_s
        self.refused: Callable[[Record, BaseException], Record] | None = None
        """The dead letter to send in place of a record the broker refused for good."""

    async def send(
        self, topic: faust.TopicT, key: bytes | None, value: bytes, headers: dict[str, bytes]
    ) -> None:
        """Produce now; the record counts for the events in hand. A send refused before it
        reaches the broker (no metadata for the topic) is a failed record like any other."""
        if _collecting.get() is None:
            raise RuntimeError("Outbox.send outside an agent's batch")
        fut = topic.as_future_message(key=key, value=value, headers=headers)
        note_sent(fut)
        try:
            await topic.publish_message(fut)  # fut is resolved when the broker answers
        except Exception as error:
            if not fut.done():
                fut.set_exception(error)

    @asynccontextmanager
    async def acknowledged(self) -> AsyncIterator[None]:
        """The records sent inside are acknowledged when this ends (they must be out before
        what comes next is sent)."""
        pending: list[FutureMessage] = []
        outer = _collecting.get()
        _collecting.set(pending)
        try:
            yield
        finally:
            _collecting.set(outer)
        await self.confirm(pending)

    async def consume(
        self,
        stream: StreamT[Any],
        handle: Handler,
        size: int = 1,
        within: float = 0.0,
        quarantine: Quarantine | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        """Hand the events of ``stream`` to ``handle``: one at a time (``size`` 1, in its
        own stream iteration, as tables keyed by partition need), else up to ``size`` at
        a time, waiting at most ``within`` seconds for more. Each is acked once the records
        written for it are acknowledged.

        A handler that raises on a batch is given its events one by one, and an event it
        still raises on goes to ``quarantine`` (its dead letter): one record must never stop
        the wire. Records written before the failure count too; a replay of them is harmless,
        as after a crash. Without ``quarantine`` the worker stops instead (the events were
        never acked: they are read again after the restart).

        With ``prepare``, each batch's work off the event loop starts as soon as it is taken
        (``Batch.started``), while the batches before it are still handled, in order."""
        concrete = cast(Stream[Any], stream)
        manual = concrete.noack() if size == 1 else concrete
        batches = _singly(manual) if size == 1 else concrete.noack_take(size, within)
        if prepare is not None:
            batches = _prepared_ahead(batches, prepare)
        acks = _Acker(manual, self)
        try:
            async for events in batches:
                pending: list[FutureMessage] = []
                _collecting.set(pending)
                try:
                    await self._handle(events, handle, quarantine)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    log.exception("a stage failed on its events; stopping the worker")
                    await self.crash(error)
                    raise
                finally:
                    _collecting.set(None)
                await acks.put(events, pending)
        finally:
            acks.close()

    async def _handle(
        self, events: Sequence[EventT[Any]], handle: Handler, quarantine: Quarantine | None
    ) -> None:
        try:
            await handle(events)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            if quarantine is None:
                raise
            log.exception("a stage failed on a batch of %d; taking it one by one", len(events))
        for event in events:
            try:
                await handle([event])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.exception("a stage failed on one record; it becomes a dead letter")
                await quarantine(event, error)

    async def confirm(self, pending: Sequence[FutureMessage]) -> None:
        """Return once the broker acknowledged every record of ``pending``: those that failed
        are sent again (aiokafka refreshes the metadata), with backoff, for as long as it
        takes; the worker is unready while a record fails or waits too long."""
        if not pending:
            return
        problem = id(pending)
        try:
            started = time.monotonic()
            _, waiting = await asyncio.wait(pending, timeout=self.unready_after_s)
            if waiting:
                self.health.problems[problem] = (
                    f"{len(waiting)} records not acknowledged by the broker "
                    f"in {time.monotonic() - started:.0f} s"
                )
                await asyncio.wait(waiting)
            failed: list[tuple[Record, BaseException]] = []
            for fut in pending:
                error = _error(fut)
                if error is not None:
                    failed.append((Record.of(fut.message), error))
            backoff = FIRST_BACKOFF_S
            while failed:
                failed = [(self._instead(record, error), error) for record, error in failed]
                record, error = failed[0]
                self.health.problems[problem] = f"sending to {record.topic} failed: {error!r}"
                for failed_record, _ in failed:
                    self.metrics.send_failures.labels(
                        self.metrics.worker, failed_record.topic
                    ).inc()
                log.warning(
                    "%d records not acknowledged (%s: %r); sending them again in %.1f s",
                    len(failed),
                    record.topic,
                    error,
                    backoff,
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                retry = []
                for record, _ in failed:
                    again = await self._resend(record)
                    if again is not None:
                        retry.append((record, again))
                failed = retry
        finally:
            self.health.problems.pop(problem, None)

    def _instead(self, record: Record, error: BaseException) -> Record:
        """What to send in place of ``record``: itself while the broker may still take it;
        once the broker has refused the record itself (too large, say), the item's dead
        letter, so that no record is retried forever."""
        if self.refused is None or not refused_for_good(error):
            return record
        log.error("the broker refused a record on %s for good (%r)", record.topic, error)
        return self.refused(record, error)

    async def _resend(self, record: Record) -> BaseException | None:
        """Send ``record`` again and wait for the broker; the error if it fails again."""
        try:
            await self.producer().send_and_wait(
                record.topic,
                record.key,
                record.value,
                partition=record.partition,
                timestamp=record.timestamp,
                headers=record.headers,
            )
        except Exception as error:
            return error
        return None


async def _singly(stream: StreamT[Any]) -> AsyncIterator[Sequence[EventT[Any]]]:
    async for event in stream.events():
        yield [event]


class Batch(list[EventT[Any]]):
    """Events taken together, with the work ``prepare`` started on them when they were."""

    started: asyncio.Future[Any]


async def prepared(events: Sequence[EventT[Any]], prepare: Prepare) -> Any:
    """What ``prepare`` makes of ``events``: started when they were taken, or, for events
    handled one by one after their batch failed, now."""
    if isinstance(events, Batch):
        return await events.started
    return await prepare(events)


async def _prepared_ahead(
    batches: AsyncIterator[Sequence[EventT[Any]]], prepare: Prepare
) -> AsyncIterator[Sequence[EventT[Any]]]:
    """``batches`` as they come, each with its work started as it is taken, while the one
    before is handled (``PREPARED_AHEAD``); a failure to take the next batch surfaces here,
    after the batches taken before it."""
    taken: asyncio.Queue[Batch | BaseException] = asyncio.Queue(PREPARED_AHEAD)

    async def take() -> None:
        try:
            async for events in batches:
                batch = Batch(events)
                batch.started = asyncio.ensure_future(prepare(batch))
                await taken.put(batch)
        except Exception as error:
            await taken.put(error)

    taker = asyncio.ensure_future(take())
    try:
        while True:
            batch = await taken.get()
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        taker.cancel()
        while not taken.empty():
            left = taken.get_nowait()
            if isinstance(left, Batch):
                left.started.cancel()


@dataclass(frozen=True)
class Record:
    """A record to send (again): where, and what."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Any = None
    partition: int | None = None
    timestamp: float | None = None

    @classmethod
    def of(cls, message: PendingMessage) -> Record:
        return cls(
            message.channel.get_topic_name(),
            cast(bytes | None, message.key),
            cast(bytes | None, message.value),
            message.headers,
            message.partition,
            message.timestamp,
        )


REFUSED_FOR_GOOD = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    CorruptRecordException,
)
"""Errors that say the record itself cannot be written, however often it is sent."""


def refused_for_good(error: BaseException) -> bool:
    return isinstance(error, REFUSED_FOR_GOOD)


def _error(fut: FutureMessage) -> BaseException | None:
    if fut.cancelled():
        return asyncio.CancelledError("the send was cancelled")
    return fut.exception()


Handler = Callable[[Sequence[EventT[Any]]], Awaitable[None]]
Prepare = Callable[[Sequence[EventT[Any]]], Awaitable[Any]]
"""Work on a batch that does not depend on the batches before it and runs mostly off the
event loop (cleaning, enrichment), started as the batch is taken."""
Quarantine = Callable[[EventT[Any], BaseException], Awaitable[None]]
"""Writes the dead letter of an event its stage failed on."""
Done = tuple[Sequence[EventT[Any]], list[FutureMessage]]
"""Events the agent is done with, and the records it wrote for them."""


class _Acker:
    """Acks batches of events in the order the agent finished them, each once its records
    are confirmed."""

    def __init__(self, stream: StreamT[Any], outbox: Outbox) -> None:
        self.stream, self.outbox = stream, outbox
        self.queue: asyncio.Queue[tuple[Sequence[EventT[Any]], list[FutureMessage]]] = (
            asyncio.Queue(IN_FLIGHT)
        )
        self.task = asyncio.ensure_future(self._run())

    async def put(self, events: Sequence[EventT[Any]], pending: list[FutureMessage]) -> None:
        if self.task.done():
            self.task.result()  # the acker's own failure surfaces in the agent
        await self.queue.put((events, pending))

    async def _run(self) -> None:
        while True:
            events, pending = await self.queue.get()
            await self.outbox.confirm(pending)
            for event in events:
                await self.stream.ack(event)

    def close(self) -> None:
        """What is not acked yet stays unacked: it is read again after a restart."""
        self.task.cancel()
