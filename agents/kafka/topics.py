"""The topic graph: names, partition counts and configs, and creating the topics up front.

::

    wire.raw -> [clean] -> newswire.internal.cleaned (key: fingerprint)
             -> [dedup] -> newswire.internal.unique  (key: story uri)   | wire.duplicates
             -> [enrich + publish] -> stories.structured, stories.latest | wire.rejected
                                   -> newswire.internal.trends -> [trends] (the dashboard)

    wire.raw -> [triage] -> newswire.internal.urgent.raw -> [clean] -> ...urgent.cleaned
             -> [dedup] -> ...urgent.unique -> [enrich + publish] (the fast lane: the same
                stages and tables, on topics no routine item queues on)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, fields
from typing import Any, Literal

import faust
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from agents.kafka.security import client_options
from pipeline.config import Settings
from pipeline.validation import SchemaName, schema_header

DAY_MS = 24 * 3600 * 1000
LEADER_WAIT_S = 30.0
DEDUP_PARTITIONS = 1
"""All cleaned items meet in one partition, so dedup compares each with every stored story."""
TRENDS_PARTITIONS = 1
"""Every published story's summary meets in one partition, so the top entities are whole."""


@dataclass(frozen=True)
class TopicNames:
    raw: str
    cleaned: str
    unique: str
    urgent_raw: str
    urgent_cleaned: str
    urgent_unique: str
    structured: str
    latest: str
    duplicates: str
    advisories: str
    rejected: str
    subscription_commands: str
    trends: str
    push_failures: str

    @classmethod
    def for_settings(cls, settings: Settings) -> TopicNames:
        prefix = settings.topic_prefix
        return cls(
            raw=f"{prefix}wire.raw",
            cleaned=f"{prefix}newswire.internal.cleaned",
            unique=f"{prefix}newswire.internal.unique",
            urgent_raw=f"{prefix}newswire.internal.urgent.raw",
            urgent_cleaned=f"{prefix}newswire.internal.urgent.cleaned",
            urgent_unique=f"{prefix}newswire.internal.urgent.unique",
            structured=f"{prefix}stories.structured",
            latest=f"{prefix}stories.latest",
            duplicates=f"{prefix}wire.duplicates",
            advisories=f"{prefix}wire.advisories",
            rejected=f"{prefix}wire.rejected",
            subscription_commands=f"{prefix}newswire.internal.subscriptions",
            trends=f"{prefix}newswire.internal.trends",
            push_failures=f"{prefix}newswire.push.failures",
        )

    def all(self) -> list[str]:
        return [getattr(self, field.name) for field in fields(self)]


def bytes_topic(app: faust.App, name: str, **options: Any) -> faust.TopicT:
    """A Faust topic of raw bytes keys and values: our JSON goes on the wire as it is."""
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        **options,
    )


def subscription_topic(settings: Settings, name: str) -> str:
    """The topic a saved subscription's stories go to."""
    return f"{settings.topic_prefix}subscriptions.{name}"


TopicSpec = tuple[int, dict[str, str]]


def topic_specs(settings: Settings) -> dict[str, TopicSpec]:
    """Every topic with its partition count and config; the rest is the cluster's default."""
    names = TopicNames.for_settings(settings)
    week = {"retention.ms": str(7 * DAY_MS)}
    month = {"retention.ms": str(30 * DAY_MS)}
    compacted = {
        "cleanup.policy": "compact",
        "min.cleanable.dirty.ratio": "0.1",
        "segment.ms": str(settings.latest_segment_ms),
    }
    n = settings.partitions
    return {
        names.raw: (n, week),
        names.cleaned: (DEDUP_PARTITIONS, week),
        names.unique: (n, week),
        names.urgent_raw: (n, week),
        names.urgent_cleaned: (DEDUP_PARTITIONS, week),
        names.urgent_unique: (n, week),
        names.structured: (n, month),
        names.latest: (n, compacted),
        names.duplicates: (n, week),
        names.advisories: (n, month),
        names.rejected: (n, month),
        names.subscription_commands: (1, {"cleanup.policy": "compact"}),
        names.trends: (TRENDS_PARTITIONS, {"retention.ms": str(DAY_MS // 12)}),
        names.push_failures: (n, month),
    }


def subscription_spec(settings: Settings) -> TopicSpec:
    return settings.partitions, {"retention.ms": str(30 * DAY_MS)}


class TopicMismatch(RuntimeError):
    """An existing topic has another partition count than Newswire needs."""


async def _check_partitions(
    admin: AIOKafkaAdminClient, specs: dict[str, TopicSpec], strict: set[str]
) -> None:
    """Partition counts that decide correctness (the single partitions) must match; Kafka
    cannot shrink a topic, so say what to do instead."""
    if not strict:
        return
    for described in await admin.describe_topics(sorted(strict)):
        name, count = described["topic"], len(described["partitions"])
        wanted = specs[name][0]
        if count != wanted:
            raise TopicMismatch(
                f"topic {name} has {count} partitions, Newswire needs {wanted}: delete it "
                "(it is internal) or choose another NEWSWIRE_TOPIC_PREFIX"
            )


class TopicRefused(RuntimeError):
    """The broker refused to create a topic; the message carries its reason."""


async def ensure_topics(settings: Settings, specs: dict[str, TopicSpec] | None = None) -> list[str]:
    """Create any missing topic (by default all of ``topic_specs``); returns those created."""
    specs = topic_specs(settings) if specs is None else specs
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        names = TopicNames.for_settings(settings)
        strict = {names.cleaned, names.urgent_cleaned, names.trends} & existing & specs.keys()
        await _check_partitions(admin, specs, strict)
        wanted = [
            NewTopic(name, partitions, settings.replication_factor, topic_configs=config)
            for name, (partitions, config) in specs.items()
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # another worker created them first
            except KafkaError as error:
                raise TopicRefused(f"could not create topics: {error}") from error
            await _wait_for_leaders(admin, [topic.name for topic in wanted])
        return [topic.name for topic in wanted]
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    """Until every partition of new topics has a leader (bounded): a worker joining its group
    before then is assigned none of them and, seen twice in tests, never rejoins."""
    deadline = time.monotonic() + LEADER_WAIT_S
    while time.monotonic() < deadline:
        described = await admin.describe_topics(topics)
        if all(
            topic["partitions"] and all(p["leader"] >= 0 for p in topic["partitions"])
            for topic in described
        ):
            return
        await asyncio.sleep(0.2)


JSON = b"application/json"


def headers(schema: SchemaName | None) -> dict[str, bytes]:
    """The headers of every record we write: content type and, for public records, schema."""
    found = {"content-type": JSON}
    if schema is not None:
        found["schema"] = schema_header(schema).encode()
    return found


@dataclass(frozen=True)
class Lane:
    """The internal topics one lane's items travel, stage by stage. The routine lane starts
    at ``wire.raw``; the fast lane at the triage's copies of flash and bulletin records
    (``agents.stages.triage``), so that no routine queue stands before them at any stage."""

    name: Literal["routine", "urgent"]
    raw: faust.TopicT
    cleaned: faust.TopicT
    unique: faust.TopicT

    def names(self) -> frozenset[str]:
        return frozenset(topic.get_topic_name() for topic in (self.raw, self.cleaned, self.unique))


@dataclass(frozen=True)
class Topics:
    routine: Lane
    urgent: Lane
    structured: faust.TopicT
    latest: faust.TopicT
    duplicates: faust.TopicT
    advisories: faust.TopicT
    rejected: faust.TopicT

    @property
    def raw(self) -> faust.TopicT:
        """``wire.raw``, where every item comes in."""
        return self.routine.raw

    @property
    def lanes(self) -> tuple[Lane, Lane]:
        return self.routine, self.urgent


def declare_topics(app: faust.App, settings: Settings) -> Topics:
    names = TopicNames.for_settings(settings)

    def topic(name: str, partitions: int = settings.partitions, **extra: Any) -> faust.TopicT:
        return bytes_topic(app, name, partitions=partitions, **extra)

    return Topics(
        routine=Lane(
            "routine",
            raw=topic(names.raw),
            cleaned=topic(names.cleaned, partitions=DEDUP_PARTITIONS, internal=True),
            unique=topic(names.unique, internal=True),
        ),
        urgent=Lane(
            "urgent",
            raw=topic(names.urgent_raw, internal=True),
            cleaned=topic(names.urgent_cleaned, partitions=DEDUP_PARTITIONS, internal=True),
            unique=topic(names.urgent_unique, internal=True),
        ),
        structured=topic(names.structured),
        latest=topic(names.latest, compacting=True),
        duplicates=topic(names.duplicates),
        advisories=topic(names.advisories),
        rejected=topic(names.rejected),
    )
