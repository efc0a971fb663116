"""Raw items handed in at the worker's doors (``POST /ingest``, feeds) onto ``wire.raw``:
acknowledged by the broker within a bound, or refused at once so that the client hears 503
instead of hanging, and the worker reports itself unready meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaError

from agents.kafka.outbox import DeliveryHealth
from agents.kafka.topics import Topics, headers
from pipeline.records import RawItem

Send = Callable[[list[RawItem]], Awaitable[None]]
"""Sends raw items and returns once the broker acknowledged them all, or raises
``BrokerAway``."""


class BrokerAway(Exception):
    """The broker did not acknowledge raw items in time; the message says what happened."""


RAW_SEND_S = 10.0
"""How long a request that hands in raw items waits for the broker before it answers 503."""


async def send_raw_item(topics: Topics, item: RawItem) -> None:
    """Produce to ``wire.raw`` and wait until the broker acknowledged it (acks=all)."""
    pending = await topics.raw.send(
        key=item.key.encode(), value=item.to_json(), headers=headers("raw-item")
    )
    await pending


def raw_sender(topics: Topics, health: DeliveryHealth, wait_s: float) -> Send:
    """Sends raw items for ``POST /ingest`` and the feeds: acknowledged within ``wait_s``,
    or ``BrokerAway`` at once, and the worker unready until a send goes through again."""

    async def send(items: list[RawItem]) -> None:
        try:
            sends = asyncio.gather(*(send_raw_item(topics, item) for item in items))
            await asyncio.wait_for(sends, wait_s)
        except (KafkaError, TimeoutError) as error:
            reason = f"raw items not acknowledged by the broker: {error!r}"
            health.problems[id(send)] = reason
            raise BrokerAway(reason) from None
        health.problems.pop(id(send), None)

    return send
