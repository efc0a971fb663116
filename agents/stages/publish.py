"""The publish agent: unique items in, enriched stories out, on the main feed first
(``stories.structured``, ``stories.latest``), then on every subscription that matches.

A version is published once: the guard knows each uri's last version from a table written
once the version is everywhere it goes, and from the newest records of
``stories.structured``, read back at every assignment (a worker can die after a story went
out and before the table's changelog did). A version already out for another item gets a
duplicate notice; a replay of the same item gets nothing new, since its outcome is out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import faust
import orjson
from faust.types import TP, EventT

from agents.kafka.delivery import PublishedVersions
from agents.kafka.outbox import Outbox, prepared
from agents.kafka.topics import Topics, headers
from agents.observe.logs import item_event, never_fatal
from agents.observe.metrics import Metrics
from agents.stages.lanes import FastLane
from agents.stages.outcomes import announce, quarantine_for, reject
from agents.stages.subscriptions import Router
from agents.stages.trends import Trends
from pipeline.chain import DeadLetter, Published, Unique, already_out, publish_step
from pipeline.config import Settings
from pipeline.enrich import EnrichMany
from pipeline.records import Article, Enrichment
from pipeline.subscriptions import SubscriptionIndex

ENRICH_WINDOW_S = 0.05
URGENT_BATCH = 4


@dataclass(frozen=True)
class Prepared:
    """A batch's unique items, with their enrichments."""

    uniques: list[Unique]
    enrichments: list[Enrichment]


@dataclass(frozen=True)
class Outgoing:
    """A story to put out: on the main feed too, or (a replay whose main-feed records are
    out but whose subscriptions may not be) on the subscriptions only."""

    unique: Unique
    published: Published
    main_feed: bool

    @property
    def key(self) -> bytes:
        return self.unique.decision.uri.encode()


def register_publish(
    app: faust.App, settings: Settings, publisher: Publisher, fast_lane: FastLane
) -> None:
    """The publish agent of each lane, and the read-back of the published stories at every
    assignment."""
    topics, outbox, metrics = publisher.topics, publisher.outbox, publisher.metrics
    unique_name = topics.routine.unique.get_topic_name()
    structured_name = topics.structured.get_topic_name()

    @app.on_partitions_assigned.connect
    async def read_back_published(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # The same uri lands on the same partition number of every topic keyed by it (same
        # key, same partition count), so the partitions to read back are those of the
        # routine unique topic (the fast lane's go with them).
        assigned: set[TP] = args[0]
        mine = sorted(tp.partition for tp in assigned if tp.topic == unique_name)
        with never_fatal("reading back the published stories"):
            await publisher.published.read_back(settings, structured_name, mine)

    quarantine = quarantine_for(topics, outbox, metrics, "publish")
    for lane in topics.lanes:
        # The fast lane enriches a few stories at a time: a flash waits for no long batch.
        batch = settings.enrich_batch if lane.name == "routine" else URGENT_BATCH
        fast_lane.agent(
            app,
            outbox,
            "publish",
            lane,
            lane.unique,
            publisher.publish_batch,
            batch,
            ENRICH_WINDOW_S,
            quarantine,
            publisher.prepare,
        )


class Publisher:
    """Enriches a batch of unique items, puts their stories out on the main feed, then on
    their subscriptions, and remembers what went where."""

    def __init__(
        self,
        app: faust.App,
        settings: Settings,
        topics: Topics,
        outbox: Outbox,
        metrics: Metrics,
        enrich: EnrichMany,
        router: Router,
        trends: Trends,
    ) -> None:
        self.settings, self.topics, self.outbox, self.metrics = settings, topics, outbox, metrics
        self.enrich, self.router, self.trends = enrich, router, trends
        # Keyed and partitioned like the unique topic. Held in memory (and rebuilt from its
        # changelog at start): writes happen per story inside a batch, where RocksDB's
        # per-partition store would need the current event.
        table = app.Table(
            "published-versions",
            partitions=settings.partitions,
            key_type=bytes,
            use_partitioner=True,
            store="memory://published",  # a host, so yarl treats the URL as set
        )
        self.published = PublishedVersions(table, settings.dedup_config().retention)
        self.story_headers = headers("story")
        self._enriching = asyncio.Lock()

    async def prepare(self, events: Sequence[EventT[bytes]]) -> Prepared:
        """What a batch's stories are made of: its items read and enriched, while the
        batches before it are still going out."""
        uniques = [Unique.from_json(event.value) for event in events]
        return Prepared(uniques, await self.enriched([u.cleaned.article for u in uniques]))

    async def publish_batch(self, events: Sequence[EventT[bytes]]) -> None:
        await self.published.read_back_done.wait()
        subscriptions = self.router.index(None)
        stories = await self.outgoing(await prepared(events, self.prepare))
        values = [orjson.dumps(out.published.story) for out in stories]
        async with self.outbox.acknowledged():
            for out, value in zip(stories, values, strict=True):
                if out.main_feed:
                    await self.outbox.send(
                        self.topics.structured, out.key, value, self.story_headers
                    )
                    await self.outbox.send(self.topics.latest, out.key, value, self.story_headers)
        async with self.outbox.acknowledged():
            receivers = [
                await self.route(out, value, subscriptions)
                for out, value in zip(stories, values, strict=True)
            ]
        for out, sent_to in zip(stories, receivers, strict=True):
            self.done(out, sent_to)
        await self.trends.note([out.published.story for out in stories])

    async def outgoing(self, batch: Prepared) -> list[Outgoing]:
        """The stories of a batch to put out; notices and dead letters for the others."""
        found = []
        for unique, enrichment in zip(batch.uniques, batch.enrichments, strict=True):
            key, version = unique.decision.uri.encode(), unique.decision.version
            verdict = self.published.verdict(key, version, unique.cleaned.item.id)
            if verdict == "replayed":
                self.metrics.count("publish", "already-published")
                continue  # this item's version went out before a restart
            if verdict in ("redelivery", "stale"):
                notice = already_out(unique, verdict)
                await announce(self.topics, self.outbox, self.metrics, "publish", verdict, notice)
                continue
            result = publish_step(unique, enrichment, self.settings.validate_stories)
            if isinstance(result, DeadLetter):
                await reject(self.topics, self.outbox, self.metrics, result)
                continue
            self.published.claim(key, version, result.item_id)
            found.append(Outgoing(unique, result, main_feed=verdict == "publish"))
        return found

    async def enriched(self, articles: list[Article]) -> list[Enrichment]:
        """The model runs off the event loop, so heartbeats and commits go on meanwhile; one
        batch at a time (the model and its paragraph cache are not shared across threads)."""
        async with self._enriching:
            started = time.perf_counter()
            loop = asyncio.get_running_loop()
            enrichments = await loop.run_in_executor(None, self.enrich, articles)
        metrics = self.metrics
        metrics.ner_batch_seconds.labels(metrics.worker).observe(time.perf_counter() - started)
        metrics.ner_batch_size.labels(metrics.worker).observe(len(articles))
        return enrichments

    async def route(
        self, out: Outgoing, value: bytes, subscriptions: SubscriptionIndex
    ) -> list[str]:
        """To the subscriptions: those of the batch's snapshot, or, for a story routed again
        after a crash, those saved when it went out."""
        before = self.published.receivers(out.key)
        if not out.main_feed:
            when = self.published.out_at(out.key, out.unique.decision.version)
            subscriptions = self.router.index(when)
        return await self.router.route(subscriptions, out.published.story, value, before)

    def done(self, out: Outgoing, sent_to: list[str]) -> None:
        story = out.published.story
        self.published.remember(
            out.key, out.unique.decision.version, out.published.item_id, sent_to
        )
        self.metrics.count("publish", "published")
        item_event(
            "published",
            itemId=out.published.item_id,
            stage="publish",
            uri=story["uri"],
            version=story["version"],
        )
        self.metrics.end_to_end(time.time() - out.unique.cleaned.item.received.timestamp())
