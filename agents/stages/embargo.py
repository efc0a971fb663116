"""Embargoed stories held back from public subscriptions, released by the worker itself once
their time has passed: exactly once, also across SIGKILLs and rebalances.

The publish agent hands such a story here instead of to the subscription topic. Held stories
live in a table keyed by the story's uri, so that the worker that publishes a story holds it
and its changelog restores it wherever the partition goes. A newer version of the story
replaces the held one (an embargo moved or lifted); a kill drops it.

Every second the worker releases the due stories of the partitions it owns. Before sending,
it reads back the newest records of the subscription topic's partition for that uri: a story
already there (the worker died after sending and before the entry went) is not sent again.
After an assignment it waits ``SETTLE_S`` first, so that a send still in flight from the
partition's previous owner is on the topic before the read-back looks.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import faust
from aiokafka import TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from agents.kafka.delivery import recent_versions
from agents.kafka.outbox import Outbox
from agents.kafka.topics import subscription_topic
from agents.observe.logs import item_event, never_fatal
from pipeline.config import Settings
from pipeline.subscriptions import embargo_due

RELEASE_INTERVAL_S = 1.0
SETTLE_S = 5.0
"""How long after an assignment the worker waits before releasing."""

Send = Callable[[str, bytes, bytes], Awaitable[None]]
"""Sends a story (uri, value) to a subscription's topic."""


class EmbargoHolds:
    """uri -> subscription -> the held version: ``{"v", "until", "story"}`` (``until`` in
    epoch seconds, None while the embargo's time is unknown)."""

    def __init__(self, table: MutableMapping[bytes, Any], settings: Settings, unique_topic: str):
        self.table, self.settings, self.unique_topic = table, settings, unique_topic
        self.assigned_at = time.monotonic()
        self._partitioner = DefaultPartitioner()

    def hold(self, uri: str, subscription: str, story: dict[str, Any], value: bytes) -> None:
        """Keep ``story`` for ``subscription`` until its embargo ends, in place of any older
        version held; an older version than the one held is not kept."""
        key = uri.encode()
        entry = dict(self.table.get(key) or {})
        held = entry.get(subscription)
        version = int(story["version"])
        if held is not None and held["v"] > version:
            return
        until = embargo_due(story["newswire"]["embargo"])
        entry[subscription] = {"v": version, "until": until, "story": value.decode()}
        self.table[key] = entry
        item_event("embargo-held", uri=uri, subscription=subscription, until=until)

    def drop(self, uri: str, subscription: str, older_than: int) -> None:
        """A version at least as new went out to ``subscription``: what it held is stale."""
        key = uri.encode()
        entry = self.table.get(key)
        if entry and subscription in entry and entry[subscription]["v"] <= older_than:
            self._remove(key, subscription, entry[subscription]["v"])

    def _remove(self, key: bytes, subscription: str, version: int) -> None:
        entry = dict(self.table.get(key) or {})
        if entry.get(subscription, {}).get("v") == version:
            del entry[subscription]
            if entry:
                self.table[key] = entry
            else:
                del self.table[key]

    def _partition(self, key: bytes) -> int:
        """The partition a uri's records go to (the producer's default partitioner), of the
        table and of every subscription topic alike."""
        partitions = list(range(self.settings.partitions))
        return int(self._partitioner(key, partitions, partitions))

    def _owned(self, key: bytes, active: set[int]) -> bool:
        return self._partition(key) in active

    def due(self, active: set[int], now: float) -> list[tuple[bytes, str, dict[str, Any]]]:
        """(uri, subscription, held) whose embargo has ended, on the partitions owned."""
        return [
            (key, subscription, dict(held))
            for key, entry in list(self.table.items())
            if self._owned(key, active)
            for subscription, held in entry.items()
            if held["until"] is not None and held["until"] <= now
        ]

    async def release_due(self, active: set[int], outbox: Outbox, send: Send) -> None:
        if time.monotonic() - self.assigned_at < SETTLE_S:
            return
        due = self.due(active, time.time())
        if not due:
            return
        out = await self._already_out(due)
        for key, subscription, held in due:
            uri = key.decode()
            if (subscription, key, str(held["v"])) not in out:
                async with outbox.acknowledged():
                    await send(subscription, key, held["story"].encode())
                item_event("embargo-released", uri=uri, subscription=subscription, v=held["v"])
            async with outbox.acknowledged():
                self._remove(key, subscription, held["v"])

    async def _already_out(
        self, due: list[tuple[bytes, str, dict[str, Any]]]
    ) -> set[tuple[str, bytes, str]]:
        """(subscription, uri, version) of the due stories already on their topics."""
        wanted = {(subscription, self._partition(key)) for key, subscription, _ in due}
        found = set()
        for subscription, number in wanted:
            partition = TopicPartition(subscription_topic(self.settings, subscription), number)
            versions = await recent_versions(self.settings, [partition])
            found |= {(subscription, k, v) for k, vs in versions.items() for v in vs}
        return found


def embargo_holds(app: faust.App, settings: Settings, unique_topic: str) -> EmbargoHolds:
    """The holds over their table, keyed and partitioned like the unique topic."""
    table = app.Table(
        "embargo-holds",
        partitions=settings.partitions,
        key_type=bytes,
        use_partitioner=True,
        store="memory://embargo",
    )
    return EmbargoHolds(table, settings, unique_topic)


def register_embargo_release(
    app: faust.App, holds: EmbargoHolds, outbox: Outbox, send: Send
) -> None:
    @app.on_partitions_assigned.connect
    async def settle(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        holds.assigned_at = time.monotonic()

    async def release() -> None:
        active = {
            tp.partition for tp in app.assignor.assigned_actives() if tp.topic == holds.unique_topic
        }
        with never_fatal("releasing embargoed stories"):
            await holds.release_due(active, outbox, send)

    app.timer(RELEASE_INTERVAL_S)(release)
