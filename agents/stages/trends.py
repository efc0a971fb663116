"""The ``trends`` agent: what the news is about, for the dashboard. Every published story's
summary (headline and entity names, never its text; an embargoed story only as embargoed)
goes to a one-partition topic, one record per published batch, and is counted per entity in
a windowed table, so the panels are whole on the worker that holds that partition."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import faust
import orjson
from faust.types import EventT

from agents.kafka.outbox import Outbox
from agents.kafka.topics import TRENDS_PARTITIONS, TopicNames, bytes_topic
from pipeline.config import Settings
from pipeline.subscriptions import under_embargo

TREND_WINDOW = timedelta(minutes=5)
TREND_SPAN = timedelta(hours=1)
TOP_ENTITIES = 8
LATEST_STORIES = 12
PANEL_TYPES = ("person", "organisation", "place")


def entity_identity(entity: dict[str, Any]) -> str:
    """One key for the names of one thing: "US" and "United States" share their links."""
    links = entity.get("links") or {}
    for field in ("uri", "geonamesId", "iso3166"):
        if field in links:
            return f"{field}:{links[field]}"
    return f"name:{entity['name']}"


def story_summary(story: dict[str, Any], now: float) -> dict[str, Any]:
    """What the dashboard shows of a story: its headline and entity names, never its text.
    The dashboard is open to anyone who reaches the port, so a story under embargo at
    ``now`` (epoch seconds) shows only that it exists: "Embargoed story, <source>, until <time>"."""
    newswire = story.get("newswire", {})
    entities = sorted(newswire.get("entities", []), key=lambda e: -e.get("salience", 0))
    summary = {
        "uri": story["uri"],
        "version": story["version"],
        "headline": story["headlines"][0]["value"],
        "source": newswire.get("source"),
        "at": story.get("versionCreated") or newswire.get("processedAt"),
        "entities": [[e["type"], e["name"], entity_identity(e)] for e in entities],
    }
    if under_embargo(story, now):
        until = newswire.get("embargo", {}).get("until") or "a time not yet given"
        summary["headline"] = f"Embargoed story, {summary['source']}, until {until}"
        summary["entities"] = []
        summary["embargoed"] = True
    return summary


class Trends:
    """Stories per entity in five-minute windows (a windowed Faust table) and the latest
    stories, fed by the ``trends`` agent."""

    def __init__(self, app: faust.App, settings: Settings, outbox: Outbox) -> None:
        self.outbox = outbox
        name = TopicNames.for_settings(settings).trends
        self.topic = bytes_topic(app, name, partitions=TRENDS_PARTITIONS, internal=True)
        self.table = (
            app.Table(
                "entity-stories",
                default=int,
                partitions=TRENDS_PARTITIONS,
                key_type=str,
                value_type=int,
                store="memory://trends",  # a host, so yarl treats the URL as set
            )
            .tumbling(TREND_WINDOW, expires=TREND_SPAN + TREND_WINDOW)
            .relative_to_stream()
        )
        self.latest: deque[dict[str, Any]] = deque(maxlen=LATEST_STORIES)
        self.names: dict[str, str] = {}
        """The name shown for a key: the longest seen ("United States" over "US")."""

        @app.agent(self.topic, name="trends")
        async def trends_agent(stream: faust.StreamT[bytes]) -> None:
            await outbox.consume(stream, self.count)

    async def count(self, events: Sequence[EventT[bytes]]) -> None:
        (event,) = events
        value = orjson.loads(event.value)
        # A record holds a batch's summaries; an earlier worker wrote one summary alone.
        for summary in value if isinstance(value, list) else [value]:
            self.count_one(summary)

    def count_one(self, summary: dict[str, Any]) -> None:
        keys = set()
        for kind, name, identity in summary["entities"]:
            key = f"{kind}\t{identity}"
            keys.add(key)
            if len(name) > len(self.names.get(key, "")):
                self.names[key] = name
        for key in keys:
            self.table[key] += 1
        self.latest.appendleft(summary)

    async def note(self, stories: Sequence[dict[str, Any]]) -> None:
        """A published batch's summaries, as one record: a record per story cost the worker
        a send, an acknowledgement and a read per item for a dashboard panel."""
        if stories:
            now = time.time()
            summaries = [story_summary(story, now) for story in stories]
            await self.outbox.send(self.topic, None, orjson.dumps(summaries), {})

    def top(self, now: float) -> dict[str, list[tuple[str, int]]]:
        """The most mentioned entities of each panel type over the last hour."""
        since = now - TREND_SPAN.total_seconds()
        counts: Counter[str] = Counter()
        for (key, (start, _end)), stories in list(self.table.table.data.items()):
            if start >= since:
                counts[key] += stories
        top: dict[str, list[tuple[str, int]]] = {kind: [] for kind in PANEL_TYPES}
        for key, stories in counts.most_common():
            kind, identity = key.split("\t", 1)
            if kind in top and len(top[kind]) < TOP_ENTITIES:
                shown = self.names.get(key) or identity.partition(":")[2] or identity
                top[kind].append((shown, stories))
        for key in self.names.keys() - counts.keys():
            del self.names[key]  # out of the window: forget the name too
        return top
