"""The composition root: the Faust app, with the topics, the stage agents (``agents.stages``),
the feeds and the web views (``agents.web``) wired together.

Agents only decode, call a step of ``pipeline.chain`` and route its result to a topic; all
decisions live in ``pipeline``. Values are plain JSON bytes (no Faust envelopes), so any Kafka
client can read every topic.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, cast

import faust
from faust.types import ConsumerT, ProducerT

from agents.feeds.runners import Feeds
from agents.kafka.delivery import IdempotentProducer, RewindingConsumer
from agents.kafka.outbox import DeliveryHealth, Outbox
from agents.kafka.raw import RAW_SEND_S, Send, raw_sender
from agents.kafka.readiness import consumer_lag, readiness
from agents.kafka.security import faust_credentials
from agents.kafka.topics import TopicNames, Topics, declare_topics
from agents.observe.logs import never_fatal
from agents.observe.metrics import Metrics
from agents.push.runner import Pushes
from agents.stages.clean import register_clean
from agents.stages.cleaners import Cleaners
from agents.stages.dedup import register_dedup
from agents.stages.embargo import embargo_holds
from agents.stages.lanes import FastLane
from agents.stages.outcomes import refused_records
from agents.stages.publish import Publisher, register_publish
from agents.stages.subscriptions import SavedSubscriptions, register_subscriptions
from agents.stages.trends import Trends
from agents.stages.triage import Triage
from agents.web.dashboard import Sampler, register_dashboard
from agents.web.subscriptions import register_pull_view, register_subscription_views
from agents.web.views import register_views
from pipeline.config import Settings
from pipeline.delivery.push import PushTarget
from pipeline.enrich import enrichment_for
from pipeline.limits import MAX_ORIGINAL_BYTES

POLL_RECORDS = 50
"""Well under a fifth of Faust's stream buffer (4,096 records), and few enough to hand over
in milliseconds: the fast lane's records come first at the next poll."""
PRODUCE_BATCH_BYTES = 1024 * 1024


IDLE_CONNECTION_S = 15.0


@dataclass(frozen=True)
class Newswire:
    """The Faust app, the topics its agents write to, its metrics and the dashboard's
    trends."""

    app: faust.App
    topics: Topics
    metrics: Metrics
    trends: Trends


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
    """Build the Faust app for ``settings`` with every agent and web view registered: the
    composition root, where the rooms meet."""
    app = new_app(settings)
    topics = declare_topics(app, settings)
    app.fast_lane_topics = topics.urgent.names()
    metrics = Metrics(settings)
    health = DeliveryHealth()
    outbox = Outbox(lambda: app.producer, app.crash, health, metrics, settings.send_timeout_seconds)
    outbox.refused = refused_records(topics, metrics)
    trends = register_stages(app, settings, topics, outbox, metrics)
    send_raw = raw_sender(topics, health, min(RAW_SEND_S, settings.send_timeout_seconds))
    feeds = register_feeds(app, settings, send_raw, metrics)
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
    register_views(app, settings, metrics, send_raw, feeds, health)
    return Newswire(app, topics, metrics, trends)


def new_app(settings: Settings) -> NewswireApp:
    """The Faust app with the producer, consumer and web settings the guarantees need."""
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
        # Records wait up to 5 ms to share a produce request: fewer, larger requests. A
        # request carries one batch per partition, and the 16 KiB default batch held two
        # cleaned items: a hop to one partition moved two items per round trip.
        producer_linger=0.005,
        producer_max_batch_size=PRODUCE_BATCH_BYTES,
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

    @app.on_partitions_assigned.connect
    async def track_written_topics(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        # By now every changelog topic exists: the producer waits until it knows them all.
        with never_fatal("reading the metadata of the written topics"):
            await app.idempotent_producer.track(app.written_topics())

    return app


def register_stages(
    app: NewswireApp, settings: Settings, topics: Topics, outbox: Outbox, metrics: Metrics
) -> Trends:
    """Every stage agent of both lanes, the subscriptions with their embargo holds, and the
    triage that feeds the fast lane; returns the trends the dashboard reads."""
    trends = Trends(app, settings, outbox)
    holds = embargo_holds(app, settings, topics.routine.unique.get_topic_name())
    saved, router = register_subscriptions(
        app, settings, metrics, outbox, app.idempotent_producer.track, holds
    )
    register_subscription_views(app, settings, saved)
    register_pull_view(app, settings, saved)
    pushes = Pushes(settings, metrics, lambda: push_targets(saved))
    app.task(pushes.run)
    fast_lane = FastLane()
    register_clean(app, topics, outbox, metrics, app.cleaners, fast_lane)
    register_dedup(app, topics, outbox, metrics, settings.dedup_config(), fast_lane)
    enrich = enrichment_for(settings)
    publisher = Publisher(app, settings, topics, outbox, metrics, enrich, router, trends)
    register_publish(app, settings, publisher, fast_lane)
    urgent_raw = topics.urgent.raw.get_topic_name()
    triage = Triage(settings, topics.raw.get_topic_name(), urgent_raw, metrics, fast_lane)
    app.task(triage.run)
    return trends


def register_feeds(app: faust.App, settings: Settings, send: Send, metrics: Metrics) -> Feeds:
    """The feeds of the feed file, run by the worker when it has one."""
    feeds = Feeds(settings, send)
    metrics.watch_feeds(feeds.health)
    if feeds.runners:

        async def run_feeds() -> None:
            await asyncio.gather(feeds.run(), feeds.watch_pushes())

        app.task(run_feeds)
    return feeds


def push_targets(saved: SavedSubscriptions) -> dict[str, PushTarget]:
    """The push target of every saved subscription that has one."""
    return {s.name: s.push for s in saved.saved() if s.push is not None}
