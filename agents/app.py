"""The Faust application: the wiring of topics, agents (one module each) and web views.

Agents only decode, call a step of ``pipeline.chain`` and route its result to a topic; all
decisions live in ``pipeline``. Values are plain JSON bytes (no Faust envelopes), so any Kafka
client can read every topic.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import faust
from aiohttp import web
from aiokafka.errors import KafkaError
from faust.types import TP, ConsumerT, ProducerT
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST

from agents.auth import UNAUTHORISED, bearer_allows
from agents.clean import register_clean
from agents.cleaners import Cleaners
from agents.dashboard import Sampler, Trends, register_dashboard
from agents.dedup import register_dedup
from agents.delivery import IdempotentProducer, RewindingConsumer
from agents.embargo import embargo_holds
from agents.feeds import BrokerAway, Feeds, Send
from agents.lanes import FastLane
from agents.logs import never_fatal
from agents.metrics import ConsumerState, Metrics
from agents.outbox import DeliveryHealth, Outbox
from agents.output import Topics, declare_topics, headers, refused_records
from agents.publish import register_publish
from agents.requests import BadBody, read_body
from agents.security import faust_credentials
from agents.subscriptions import register_subscriptions
from agents.topics import TopicNames
from agents.triage import Triage
from pipeline.config import Settings
from pipeline.enrich import enrichment_for
from pipeline.ingest import raw_items_from_request
from pipeline.limits import MAX_ORIGINAL_BYTES
from pipeline.records import RawItem, Rejected

POLL_RECORDS = 50
"""Well under a fifth of Faust's stream buffer (4,096 records), and few enough to hand over
in milliseconds: the fast lane's records come first at the next poll."""


IDLE_CONNECTION_S = 15.0
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
    output_topics: list[str]
    """Every topic the agents and views write to, besides the tables' changelogs."""
    fast_lane_topics: frozenset[str]

    async def on_start(self) -> None:
        await super().on_start()
        self.cleaners.start()

    def on_webserver_init(self, web: Any) -> None:
        """An idle HTTP connection is closed after ``IDLE_CONNECTION_S``: aiohttp keeps one
        for an hour, so idle clients could hold the server's sockets for good. Faust builds
        its runner without a way to pass the option; the runner reads it when it starts."""
        web._runner._kwargs["keepalive_timeout"] = IDLE_CONNECTION_S
        super().on_webserver_init(web)

    async def on_stop(self) -> None:
        self.cleaners.stop()
        await super().on_stop()

    def written_topics(self) -> list[str]:
        changelogs = [table.changelog_topic.get_topic_name() for table in self.tables.values()]
        return [*self.output_topics, *changelogs]

    def _new_producer(self) -> ProducerT:
        return IdempotentProducer(
            self.transport, loop=self.loop, beacon=self.beacon, topics=self.written_topics
        )

    def _new_consumer(self) -> ConsumerT:
        consumer = RewindingConsumer(
            self.transport,
            callback=self.topics.on_message,
            on_partitions_revoked=self._on_partitions_revoked,
            on_partitions_assigned=self._on_partitions_assigned,
            loop=self.loop,
            beacon=self.beacon,
        )
        consumer.first_topics = self.fast_lane_topics
        return consumer

    @property
    def idempotent_producer(self) -> IdempotentProducer:
        return cast(IdempotentProducer, self.producer)


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
        producer_request_timeout=settings.send_timeout_seconds,
        # A dead letter (at most MAX_ORIGINAL_BYTES of its original, in base64) always fits.
        producer_max_request_size=max(settings.max_item_bytes * 2, 2 * MAX_ORIGINAL_BYTES),
        consumer_max_fetch_size=settings.max_item_bytes * 2,
        consumer_auto_offset_reset="earliest",
        # Faust hands each fetched record to its agent's buffer and, once a buffer is full,
        # waits there: every other topic waits too. It stops fetching a partition at 80 %
        # of its buffer; a poll of at most this many records then fits in what is left, so
        # a queue on one topic never holds back another (the fast lane's above all).
        broker_max_poll_records=POLL_RECORDS,
        table_cleanup_interval=60.0,
        # A killed worker's partitions move to the others within ten seconds.
        broker_session_timeout=10.0,
        # A raw document of the largest accepted size fits in a request; a larger one is 413.
        web_application_options={"client_max_size": settings.max_body_bytes},
    )
    app.cleaners = Cleaners(settings.clean_processes, settings.max_item_bytes)
    app.output_topics = TopicNames.for_settings(settings).all()
    topics = declare_topics(app, settings)
    app.fast_lane_topics = topics.urgent.names()
    metrics = Metrics(settings)
    health = DeliveryHealth()
    outbox = Outbox(lambda: app.producer, app.crash, health, metrics, settings.send_timeout_seconds)
    outbox.refused = refused_records(topics, metrics)

    @app.on_partitions_assigned.connect
    async def track_written_topics(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # By now every changelog topic exists: the producer waits until it knows them all.
        with never_fatal("reading the metadata of the written topics"):
            await app.idempotent_producer.track(app.written_topics())

    trends = Trends(app, settings, outbox)
    holds = embargo_holds(app, settings, topics.routine.unique.get_topic_name())
    router = register_subscriptions(
        app, settings, metrics, outbox, app.idempotent_producer.track, holds
    )
    fast_lane = FastLane()
    register_clean(app, topics, outbox, metrics, app.cleaners, fast_lane)
    register_dedup(app, topics, outbox, metrics, settings.dedup_config(), fast_lane)
    register_publish(
        app, settings, topics, outbox, metrics, enrichment_for(settings), router, trends, fast_lane
    )

    send_raw = raw_sender(topics, health, min(RAW_SEND_S, settings.send_timeout_seconds))
    triage = Triage(
        settings,
        topics.raw.get_topic_name(),
        topics.urgent.raw.get_topic_name(),
        metrics,
        fast_lane,
    )
    app.task(triage.run)

    feeds = Feeds(settings, send_raw)
    metrics.watch_feeds(feeds.health)
    if feeds.runners:

        async def run_feeds() -> None:
            await asyncio.gather(feeds.run(), feeds.watch_pushes())

        app.task(run_feeds)

    sources = topics.routine.names() | topics.urgent.names()
    metrics.watch_consumer(lambda: consumer_lag(app, sources))
    sampler = Sampler(
        metrics,
        trends,
        feeds,
        lambda: consumer_lag(app, sources),
        lambda: readiness(app, health)[0],
    )
    register_dashboard(app, sampler)
    _register_web(app, settings, metrics, send_raw, feeds, health)
    return Newswire(app, topics, metrics)


def readiness(app: faust.App, health: DeliveryHealth) -> tuple[bool, str | None]:
    """Ready, or the reason not: no partitions, a rebalance, or records the broker has not
    acknowledged (the model loads before the app starts)."""
    if not app.consumer.assignment():
        return False, "no partitions assigned"
    if app.rebalancing:
        return False, "rebalancing"
    if health.reason is not None:
        return False, health.reason
    return True, None


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


def _register_web(
    app: faust.App,
    settings: Settings,
    metrics: Metrics,
    send_raw: Send,
    feeds: Feeds,
    health: DeliveryHealth,
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
            ready, reason = readiness(app, health)
            assigned = len(app.consumer.assignment())
            body: dict[str, Any] = {
                "ready": ready,
                "partitionsAssigned": assigned,
                "rebalancing": app.rebalancing,
            }
            if reason is not None:
                body["reason"] = reason
            return self.json(body, status=200 if ready else 503)

    @app.page("/ingest")
    class Ingest(View):
        async def post(self, request: Request) -> Response:
            if not bearer_allows(request.headers, settings.api_token):
                return self.json(UNAUTHORISED, status=401)
            try:
                body = await read_body(cast(web.Request, request), settings.max_body_bytes)
            except BadBody as bad:
                return self.json(bad.answer(), status=bad.status)
            query = request.query
            split = functools.partial(
                raw_items_from_request,
                body,
                source=query.get("source", "http"),
                format=query.get("format", "auto"),
                guid=query.get("guid"),
                url=query.get("url"),
            )
            try:  # beside the event loop: a large feed must not hold up the worker
                items = await asyncio.get_running_loop().run_in_executor(None, split)
            except Rejected as rejected:
                return self.json({"error": rejected.reason}, status=400)
            try:
                await send_raw(items)
            except BrokerAway as away:
                return self.json({"error": str(away)}, status=503)
            accepted = {"id": items[0].id, "key": items[0].key, "ids": [item.id for item in items]}
            return self.json(accepted, status=202)

    @app.page("/feeds")
    class FeedList(View):
        async def get(self, request: Request) -> Response:
            return self.json({"feeds": feeds.health()})

    @app.page("/feeds/{name}")
    class FeedPush(View):
        async def post(self, request: Request, name: str) -> Response:
            status, answer = await feeds.push(
                name, cast(web.Request, request), settings.max_body_bytes
            )
            return self.json(answer, status=status)
