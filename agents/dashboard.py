"""The live dashboard at ``GET /``: what flows, how fast, and what the news is about.

The page and its assets are served by the worker (``agents/static``, no CDN). ``GET /events``
is a server-sent event stream: the recent history once, then a sample every two seconds.
Flow figures (throughput, latency, rates, lag) are this worker's own; the newsroom panels
(top entities of the last hour, latest stories) come from the ``trends`` agent, which reads
every published story's summary from a one-partition topic into a windowed table, so they are
whole on the worker that holds that partition.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import faust
import orjson
from aiohttp import web
from faust.types import EventT
from faust.web import Request, Response, View

from agents.feeds import Feeds
from agents.logs import never_fatal
from agents.metrics import ConsumerState, Metrics
from agents.outbox import Outbox
from agents.topics import TRENDS_PARTITIONS, TopicNames, bytes_topic
from pipeline.config import Settings
from pipeline.subscriptions import under_embargo

STATIC = Path(__file__).parent / "static"
ASSETS = {
    "/": ("index.html", "text/html"),
    "/dashboard.js": ("dashboard.js", "text/javascript"),
    "/dashboard.css": ("dashboard.css", "text/css"),
}
SAMPLE_INTERVAL_S = 2.0
HISTORY_S = 15 * 60
LATENCY_SPAN_S = 60.0
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


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p95 and p99 by nearest rank; None without values."""
    ordered = sorted(values)
    found: dict[str, float | None] = {}
    for name, share in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        found[name] = ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else None
    return found


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
        summary = orjson.loads(event.value)
        keys = set()
        for kind, name, identity in summary["entities"]:
            key = f"{kind}\t{identity}"
            keys.add(key)
            if len(name) > len(self.names.get(key, "")):
                self.names[key] = name
        for key in keys:
            self.table[key] += 1
        self.latest.appendleft(summary)

    async def note(self, story: dict[str, Any]) -> None:
        summary = story_summary(story, time.time())
        await self.outbox.send(self.topic, None, orjson.dumps(summary), {})

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


@dataclass
class Sampler:
    """Takes a sample every two seconds and keeps the last fifteen minutes of them."""

    metrics: Metrics
    trends: Trends
    feeds: Feeds
    lag: Callable[[], ConsumerState]
    ready: Callable[[], bool]

    def __post_init__(self) -> None:
        self.history: deque[dict[str, Any]] = deque(maxlen=int(HISTORY_S / SAMPLE_INTERVAL_S))
        self.changed = asyncio.Event()

    def sample(self) -> dict[str, Any]:
        now = time.time()
        recent = [s for at, s in self.metrics.recent_latencies if at >= now - LATENCY_SPAN_S]
        lag = {f"{topic}/{p}": n for (topic, p), n in self.lag().items() if n is not None}
        found = {
            "at": now,
            "worker": self.metrics.worker,
            "ready": self.ready(),
            "totals": dict(self.metrics.totals),
            "latency": percentiles(recent),
            "lag": lag,
            "top": self.trends.top(now),
            "latest": list(self.trends.latest),
            "feeds": self.feeds.health(),
        }
        self.history.append(found)
        self.changed.set()
        self.changed = asyncio.Event()
        return found


def register_dashboard(app: faust.App, sampler: Sampler) -> None:
    """The page, its assets and the event stream."""
    for path, (filename, media_type) in ASSETS.items():
        _serve_file(app, path, STATIC / filename, media_type)

    async def take_sample() -> None:
        with never_fatal("a dashboard sample"):
            sampler.sample()

    app.timer(SAMPLE_INTERVAL_S)(take_sample)

    @app.page("/events", name="dashboard-events")
    class Events(View):
        async def get(self, request: Request) -> Response:
            stream = web.StreamResponse(
                headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
            )
            await stream.prepare(request)  # type: ignore[arg-type]
            try:
                history = orjson.dumps(list(sampler.history))
                await stream.write(b"event: history\ndata: " + history + b"\n\n")
                while True:
                    changed = sampler.changed
                    await changed.wait()
                    latest = orjson.dumps(sampler.history[-1])
                    await stream.write(b"event: sample\ndata: " + latest + b"\n\n")
            except ConnectionResetError:
                pass  # the page was closed
            return stream  # type: ignore[return-value]


def _serve_file(app: faust.App, path: str, file: Path, media_type: str) -> None:
    body = file.read_bytes()

    class StaticFile(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(body, content_type=media_type)

    app.page(path, name=f"dashboard-{file.name}")(StaticFile)
