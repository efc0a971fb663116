"""The Faust application: topics, the dedup table, thin agents and the web endpoints.

Agents only decode, call a step of ``pipeline.chain`` and route its result to a topic; all
decisions live in ``pipeline``. Values are plain JSON bytes (no Faust envelopes), so any Kafka
client can read every topic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sized
from dataclasses import dataclass
from typing import Any

import faust
import orjson
from aiokafka.errors import KafkaError
from faust.types import TP, ConsumerT, ProducerT
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST

from agents.auth import UNAUTHORISED, bearer_allows
from agents.cleaners import Cleaners
from agents.dashboard import Sampler, Trends, register_dashboard
from agents.delivery import IdempotentProducer, PublishedVersions, RewindingConsumer
from agents.feeds import Feeds
from agents.logs import item_event, log, never_fatal
from agents.metrics import ConsumerState, Metrics
from agents.security import faust_credentials
from agents.subscriptions import register_subscriptions
from agents.topics import DEDUP_PARTITIONS, TopicNames, bytes_topic
from pipeline.chain import (
    Cleaned,
    DeadLetter,
    Duplicate,
    Unique,
    dedup_step,
    publish_step,
)
from pipeline.config import Settings
from pipeline.dedup import DedupIndex, Sweeper, rebuild_bands
from pipeline.enrich import enrichment_for
from pipeline.ingest import raw_items_from_request
from pipeline.records import RawItem, Rejected, utc_now
from pipeline.validation import SchemaName, schema_header

JSON = b"application/json"
ENRICH_WINDOW_S = 0.05
CLEAN_BATCH = 32
CLEAN_WINDOW_S = 0.01
TABLE_SIZE_INTERVAL_S = 30.0
INGEST_ACK_TIMEOUT_S = 30.0


def headers(schema: SchemaName | None) -> dict[str, bytes]:
    """The headers of every record we write: content type and, for public records, schema."""
    found = {"content-type": JSON}
    if schema is not None:
        found["schema"] = schema_header(schema).encode()
    return found


@dataclass(frozen=True)
class Topics:
    raw: faust.TopicT
    cleaned: faust.TopicT
    unique: faust.TopicT
    structured: faust.TopicT
    latest: faust.TopicT
    duplicates: faust.TopicT
    rejected: faust.TopicT


def _declare_topics(app: faust.App, settings: Settings) -> Topics:
    names = TopicNames.for_settings(settings)

    def topic(name: str, partitions: int = settings.partitions, **extra: Any) -> faust.TopicT:
        return bytes_topic(app, name, partitions=partitions, **extra)

    return Topics(
        raw=topic(names.raw),
        cleaned=topic(names.cleaned, partitions=DEDUP_PARTITIONS, internal=True),
        unique=topic(names.unique, internal=True),
        structured=topic(names.structured),
        latest=topic(names.latest, compacting=True),
        duplicates=topic(names.duplicates),
        rejected=topic(names.rejected),
    )


async def reject(topics: Topics, metrics: Metrics, dead: DeadLetter) -> None:
    """A dead letter on ``wire.rejected``, counted and logged with its stage and reason."""
    stage = dead.letter["stage"]
    metrics.count(stage, "rejected")
    metrics.rejections.labels(metrics.worker, stage, dead.letter["code"]).inc()
    await topics.rejected.send(
        key=dead.item_id.encode(), value=orjson.dumps(dead.letter), headers=headers("dead-letter")
    )
    item_event("rejected", itemId=dead.item_id, stage=stage, reason=dead.letter["reason"])


async def send_raw_item(topics: Topics, item: RawItem) -> None:
    """Produce to ``wire.raw`` and wait until the broker acknowledged it (acks=all)."""
    pending = await topics.raw.send(
        key=item.key.encode(), value=item.to_json(), headers=headers("raw-item")
    )
    await pending


@dataclass(frozen=True)
class Newswire:
    """The Faust app, the topics its agents write to, and its metrics."""

    app: faust.App
    topics: Topics
    metrics: Metrics


class NewswireApp(faust.App):
    """Faust's app with the idempotent producer, the rewinding consumer and the cleaning
    processes (started and stopped with it)."""

    cleaners: Cleaners

    async def on_start(self) -> None:
        await super().on_start()
        self.cleaners.start()

    async def on_stop(self) -> None:
        self.cleaners.stop()
        await super().on_stop()

    def _new_producer(self) -> ProducerT:
        return IdempotentProducer(self.transport, loop=self.loop, beacon=self.beacon)

    def _new_consumer(self) -> ConsumerT:
        return RewindingConsumer(
            self.transport,
            callback=self.topics.on_message,
            on_partitions_revoked=self._on_partitions_revoked,
            on_partitions_assigned=self._on_partitions_assigned,
            loop=self.loop,
            beacon=self.beacon,
        )


def create_app(settings: Settings) -> Newswire:
    """Build the Faust app for ``settings`` with every agent and web view registered."""
    (settings.home / "worker").mkdir(parents=True, exist_ok=True)
    app = NewswireApp(
        settings.faust_id,
        broker=[f"kafka://{server}" for server in settings.bootstrap.split(",")],
        broker_credentials=faust_credentials(settings),
        store=settings.store,
        datadir=str(settings.home / "worker" / settings.faust_id),
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_bind=settings.web_host,
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        producer_acks=-1,
        # Records wait up to 5 ms to share a produce request: fewer, larger requests.
        producer_linger=0.005,
        # A send the broker does not acknowledge in time fails instead of waiting 20 minutes.
        producer_request_timeout=INGEST_ACK_TIMEOUT_S,
        producer_max_request_size=settings.max_item_bytes * 2,
        consumer_max_fetch_size=settings.max_item_bytes * 2,
        consumer_auto_offset_reset="earliest",
        table_cleanup_interval=60.0,
        # A killed worker's partitions move to the others within ten seconds.
        broker_session_timeout=10.0,
        # A raw document of the largest accepted size fits in a request; a larger one is 413.
        web_application_options={"client_max_size": settings.max_item_bytes * 2},
    )
    app.cleaners = Cleaners(settings.clean_processes, settings.max_item_bytes)
    topics = _declare_topics(app, settings)
    dedup_index = DedupIndex(
        stories=app.Table("dedup-stories", partitions=DEDUP_PARTITIONS, key_type=str),
        keys=app.Table("dedup-keys", partitions=DEDUP_PARTITIONS, key_type=str),
    )
    bands = BandsFreshness()
    dedup_config = settings.dedup_config()
    enrich = enrichment_for(settings)
    metrics = Metrics(settings)
    route = register_subscriptions(app, settings, metrics)
    # The last version published per story uri, keyed and partitioned like the unique topic,
    # so that a replay after a crash does not publish a version twice. Held in memory (and
    # rebuilt from its changelog at start): writes happen per story inside a batch, where
    # RocksDB's per-partition store would need the current event.
    published = PublishedVersions(
        app.Table(
            "published-versions",
            partitions=settings.partitions,
            key_type=bytes,
            use_partitioner=True,
            store="memory://published",  # a host, so yarl treats the URL as set
        ),
        dedup_config.retention,
    )
    unique_name = topics.unique.get_topic_name()
    structured_name = topics.structured.get_topic_name()

    @app.on_partitions_assigned.connect
    async def mark_bands_stale(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        bands.assignments += 1

    @app.on_partitions_assigned.connect
    async def read_back_published(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # The same uri lands on the same partition number of both topics (same key, same
        # partition count), so the partitions to read back are those of the unique topic.
        assigned: set[TP] = args[0]
        mine = sorted(tp.partition for tp in assigned if tp.topic == unique_name)
        with never_fatal("reading back the published stories"):
            await published.read_back(settings, structured_name, mine)

    sweeper = Sweeper(dedup_index, dedup_config.retention)
    trends = Trends(app, settings)

    async def send_raw(items: list[RawItem]) -> None:
        await asyncio.gather(*(send_raw_item(topics, item) for item in items))

    feeds = Feeds(settings, send_raw)
    metrics.watch_feeds(feeds.health)
    if feeds.runners:

        async def run_feeds() -> None:
            await asyncio.gather(feeds.run(), feeds.watch_pushes())

        app.task(run_feeds)

    @app.agent(topics.raw, name="clean")
    async def clean_agent(stream: faust.StreamT[bytes]) -> None:
        async for batch in stream.take(CLEAN_BATCH, within=CLEAN_WINDOW_S):
            started = time.perf_counter()
            results = await app.cleaners.clean(batch)
            each = (time.perf_counter() - started) / len(batch)
            for result in results:
                metrics.time_stage("clean", each)
                if isinstance(result, DeadLetter):
                    await reject(topics, metrics, result)
                else:
                    metrics.count("clean", "cleaned")
                    await topics.cleaned.send(
                        key=result.fingerprint.encode(),
                        value=result.to_json(),
                        headers=headers(None),
                    )

    @app.agent(topics.cleaned, name="dedup")
    async def dedup_agent(stream: faust.StreamT[bytes]) -> None:
        async for data in stream:
            # Events come once the tables are restored: the band index follows them.
            await bands.refresh(dedup_index)
            # Tables change only inside stream iteration, so expiry runs here, a few
            # stories per item.
            sweeper.step(utc_now())
            started = time.perf_counter()
            result = dedup_step(Cleaned.from_json(data), dedup_index, dedup_config)
            metrics.time_stage("dedup", time.perf_counter() - started)
            if isinstance(result, Duplicate):
                metrics.count("dedup", "duplicate")
                item_event(
                    "duplicate",
                    itemId=result.item_id,
                    stage="dedup",
                    duplicateOf=result.notice["duplicateOf"],
                    reason=result.notice["reason"],
                )
                await topics.duplicates.send(
                    key=result.item_id.encode(),
                    value=orjson.dumps(result.notice),
                    headers=headers("duplicate-notice"),
                )
            else:
                metrics.count("dedup", result.decision.status)
                await topics.unique.send(
                    key=result.decision.uri.encode(), value=result.to_json(), headers=headers(None)
                )

    @app.agent(topics.unique, name="publish")
    async def publish_agent(stream: faust.StreamT[bytes]) -> None:
        loop = asyncio.get_running_loop()
        async for batch in stream.take(settings.enrich_batch, within=ENRICH_WINDOW_S):
            await published.read_back_done.wait()
            uniques = [Unique.from_json(data) for data in batch]
            articles = [unique.cleaned.article for unique in uniques]
            # The model runs off the event loop, so heartbeats and commits go on meanwhile.
            started = time.perf_counter()
            enrichments = await loop.run_in_executor(None, enrich, articles)
            metrics.ner_batch_seconds.labels(metrics.worker).observe(time.perf_counter() - started)
            metrics.ner_batch_size.labels(metrics.worker).observe(len(articles))
            for unique, enrichment in zip(uniques, enrichments, strict=True):
                key = unique.decision.uri.encode()
                if published.already(key, unique.decision.version):
                    metrics.count("publish", "already-published")
                    continue  # this version went out before a restart
                result = publish_step(unique, enrichment, settings.validate_stories)
                if isinstance(result, DeadLetter):
                    await reject(topics, metrics, result)
                    continue
                value = orjson.dumps(result.story)
                story_headers = headers("story")
                await topics.structured.send(key=key, value=value, headers=story_headers)
                await topics.latest.send(key=key, value=value, headers=story_headers)
                await route(result.story, value, story_headers)
                await trends.note(result.story)
                published.remember(key, unique.decision.version)
                metrics.count("publish", "published")
                item_event(
                    "published",
                    itemId=result.item_id,
                    stage="publish",
                    uri=result.story["uri"],
                    version=result.story["version"],
                )
                received = unique.cleaned.item.received.timestamp()
                metrics.end_to_end(time.time() - received)

    sources = frozenset(
        topic.get_topic_name() for topic in (topics.raw, topics.cleaned, topics.unique)
    )
    metrics.watch_consumer(lambda: consumer_lag(app, sources))
    sampler = Sampler(
        metrics, trends, feeds, lambda: consumer_lag(app, sources), lambda: is_ready(app)
    )
    register_dashboard(app, sampler)
    tables = {f"dedup-{name}": getattr(dedup_index, name) for name in ("stories", "keys", "bands")}

    async def measure_tables() -> None:
        # len() of a RocksDB table walks its keys: off the event loop.
        with never_fatal("measuring the tables"):
            sizes = await asyncio.get_running_loop().run_in_executor(None, table_sizes, tables)
            for name, size in sizes.items():
                metrics.table_entries.labels(metrics.worker, name).set(size)

    app.timer(TABLE_SIZE_INTERVAL_S)(measure_tables)

    _register_web(app, settings, topics, metrics, feeds)
    return Newswire(app, topics, metrics)


class BandsFreshness:
    """Keeps the in-memory band index in step with the stories table: after any assignment
    (the table may have been restored or changed hands) it is rebuilt before the next
    decision, in a thread, so heartbeats go on while a large index is read."""

    def __init__(self) -> None:
        self.assignments = 0
        self._built_for = -1

    async def refresh(self, index: DedupIndex) -> None:
        if self._built_for == self.assignments:
            return
        wanted = self.assignments
        started = time.perf_counter()
        stories = await asyncio.get_running_loop().run_in_executor(None, rebuild_bands, index)
        self._built_for = wanted
        log.info(
            "band index rebuilt from %d stories in %.1f s", stories, time.perf_counter() - started
        )


def is_ready(app: faust.App) -> bool:
    """Partitions assigned and no rebalance going on (the model loads before the app starts)."""
    return bool(app.consumer.assignment()) and not app.rebalancing


def consumer_lag(app: faust.App, sources: frozenset[str]) -> ConsumerState:
    """Highwater minus committed offset for each assigned partition of ``sources``."""
    consumer = app.consumer
    # Faust seeds its committed offsets from the broker at assignment and updates them at
    # every commit; it has no public accessor for them.
    committed: Mapping[TP, int | None] = getattr(consumer, "_committed_offset", {})
    state: dict[tuple[str, int], int | None] = {}
    for tp in consumer.assignment():
        if tp.topic in sources:
            # Before the group's first commit on a partition, everything from offset 0 is due.
            end, done = consumer.highwater(tp), committed.get(tp) or 0
            state[(tp.topic, tp.partition)] = None if end is None else max(0, end - done)
    return state


def table_sizes(tables: Mapping[str, Sized]) -> dict[str, int]:
    """Entries per table; a table changing under a rebalance is skipped until next time."""
    sizes = {}
    for name, table in tables.items():
        try:
            sizes[name] = len(table)
        except RuntimeError:
            continue
    return sizes


def _register_web(
    app: faust.App, settings: Settings, topics: Topics, metrics: Metrics, feeds: Feeds
) -> None:
    @app.page("/metrics")
    class MetricsView(View):
        async def get(self, request: Request) -> Response:
            # aiohttp takes the charset apart from the media type.
            media_type = CONTENT_TYPE_LATEST.split(";")[0]
            return self.bytes(metrics.exposition(), content_type=media_type)

    @app.page("/health")
    class Health(View):
        async def get(self, request: Request) -> Response:
            return self.json({"status": "ok"})

    @app.page("/ready")
    class Ready(View):
        async def get(self, request: Request) -> Response:
            ready = is_ready(app)
            assigned = len(app.consumer.assignment())
            body = {"ready": ready, "partitionsAssigned": assigned, "rebalancing": app.rebalancing}
            return self.json(body, status=200 if ready else 503)

    @app.page("/ingest")
    class Ingest(View):
        async def post(self, request: Request) -> Response:
            if not bearer_allows(request.headers, settings.api_token):
                return self.json(UNAUTHORISED, status=401)
            body = await request.read()
            query = request.query
            source = query.get("source", "http")
            try:
                items = raw_items_from_request(
                    body,
                    source=source,
                    format=query.get("format", "auto"),
                    guid=query.get("guid"),
                    url=query.get("url"),
                )
            except Rejected as rejected:
                return self.json({"error": rejected.reason}, status=400)
            try:
                await asyncio.wait_for(
                    asyncio.gather(*(send_raw_item(topics, item) for item in items)),
                    INGEST_ACK_TIMEOUT_S,
                )
            except (KafkaError, TimeoutError) as error:
                reason = str(error) or type(error).__name__
                return self.json({"error": f"not acknowledged by the broker: {reason}"}, status=503)
            accepted = {"id": items[0].id, "key": items[0].key, "ids": [item.id for item in items]}
            return self.json(accepted, status=202)

    @app.page("/feeds")
    class FeedList(View):
        async def get(self, request: Request) -> Response:
            return self.json({"feeds": feeds.health()})

    @app.page("/feeds/{name}")
    class FeedPush(View):
        async def post(self, request: Request, name: str) -> Response:
            body = await request.read()
            status, answer = await feeds.push(name, request.headers, body, request.query)
            return self.json(answer, status=status)
