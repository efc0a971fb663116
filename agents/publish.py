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

from agents.dashboard import Trends
from agents.delivery import PublishedVersions
from agents.lanes import FastLane
from agents.logs import item_event, never_fatal
from agents.metrics import Metrics
from agents.outbox import Outbox
from agents.output import Topics, announce, headers, quarantine_for, reject
from agents.subscriptions import Router
from pipeline.chain import DeadLetter, Published, Unique, already_out, publish_step
from pipeline.config import Settings
from pipeline.enrich import EnrichMany

ENRICH_WINDOW_S = 0.05
URGENT_BATCH = 4


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
    app: faust.App,
    settings: Settings,
    topics: Topics,
    outbox: Outbox,
    metrics: Metrics,
    enrich: EnrichMany,
    router: Router,
    trends: Trends,
    fast_lane: FastLane,
) -> None:
    # Keyed and partitioned like the unique topic. Held in memory (and rebuilt from its
    # changelog at start): writes happen per story inside a batch, where RocksDB's
    # per-partition store would need the current event.
    published = PublishedVersions(
        app.Table(
            "published-versions",
            partitions=settings.partitions,
            key_type=bytes,
            use_partitioner=True,
            store="memory://published",  # a host, so yarl treats the URL as set
        ),
        settings.dedup_config().retention,
    )
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
            await published.read_back(settings, structured_name, mine)

    async def outgoing(uniques: list[Unique]) -> list[Outgoing]:
        """The stories of a batch to put out; notices and dead letters for the others."""
        articles = [unique.cleaned.article for unique in uniques]
        # The model runs off the event loop, so heartbeats and commits go on meanwhile.
        started = time.perf_counter()
        enrichments = await asyncio.get_running_loop().run_in_executor(None, enrich, articles)
        metrics.ner_batch_seconds.labels(metrics.worker).observe(time.perf_counter() - started)
        metrics.ner_batch_size.labels(metrics.worker).observe(len(articles))
        found = []
        for unique, enrichment in zip(uniques, enrichments, strict=True):
            key, version = unique.decision.uri.encode(), unique.decision.version
            verdict = published.verdict(key, version, unique.cleaned.item.id)
            if verdict == "replayed":
                metrics.count("publish", "already-published")
                continue  # this item's version went out before a restart
            if verdict in ("redelivery", "stale"):
                notice = already_out(unique, verdict)
                await announce(topics, outbox, metrics, "publish", verdict, notice)
                continue
            result = publish_step(unique, enrichment, settings.validate_stories)
            if isinstance(result, DeadLetter):
                await reject(topics, outbox, metrics, result)
                continue
            published.claim(key, version, result.item_id)
            found.append(Outgoing(unique, result, main_feed=verdict == "publish"))
        return found

    story_headers = headers("story")

    async def publish_batch(events: Sequence[EventT[bytes]]) -> None:
        await published.read_back_done.wait()
        subscriptions = router.index(None)
        stories = await outgoing([Unique.from_json(event.value) for event in events])
        values = [orjson.dumps(out.published.story) for out in stories]
        async with outbox.acknowledged():
            for out, value in zip(stories, values, strict=True):
                if out.main_feed:
                    await outbox.send(topics.structured, out.key, value, story_headers)
                    await outbox.send(topics.latest, out.key, value, story_headers)
        receivers = []
        async with outbox.acknowledged():
            for out, value in zip(stories, values, strict=True):
                before = published.receivers(out.key)
                saved = subscriptions
                if not out.main_feed:  # routed again: to those saved when it went out
                    saved = router.index(published.out_at(out.key, out.unique.decision.version))
                sent_to = await router.route(saved, out.published.story, value, before)
                receivers.append(sent_to)
        for out, sent_to in zip(stories, receivers, strict=True):
            story = out.published.story
            published.remember(out.key, out.unique.decision.version, out.published.item_id, sent_to)
            await trends.note(story)
            metrics.count("publish", "published")
            item_event(
                "published",
                itemId=out.published.item_id,
                stage="publish",
                uri=story["uri"],
                version=story["version"],
            )
            metrics.end_to_end(time.time() - out.unique.cleaned.item.received.timestamp())

    for lane in topics.lanes:
        # The fast lane enriches a few stories at a time: a flash waits for no long batch.
        batch = settings.enrich_batch if lane.name == "routine" else URGENT_BATCH
        quarantine = quarantine_for(topics, outbox, metrics, "publish")
        fast_lane.agent(
            app,
            outbox,
            "publish",
            lane,
            lane.unique,
            publish_batch,
            batch,
            ENRICH_WINDOW_S,
            quarantine,
        )
