"""What every stage writes: the app's topics, the headers of its records, and dead letters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import faust
import orjson
from faust.types import EventT

from agents.logs import item_event
from agents.metrics import Metrics
from agents.outbox import Outbox, Quarantine, Record
from agents.topics import DEDUP_PARTITIONS, TopicNames, bytes_topic
from pipeline.chain import Advisory, DeadLetter, Duplicate, stage_failure, unsendable
from pipeline.config import Settings
from pipeline.limits import MAX_ORIGINAL_BYTES
from pipeline.records import Stage
from pipeline.validation import SchemaName, schema_header

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
    (``agents.triage``), so that no routine queue stands before them at any stage."""

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


async def reject(topics: Topics, outbox: Outbox, metrics: Metrics, dead: DeadLetter) -> None:
    """A dead letter on ``wire.rejected``, counted and logged with its stage and reason."""
    stage = dead.letter["stage"]
    metrics.count(stage, "rejected")
    metrics.rejections.labels(metrics.worker, stage, dead.letter["code"]).inc()
    await outbox.send(
        topics.rejected, dead.item_id.encode(), orjson.dumps(dead.letter), headers("dead-letter")
    )
    item_event("rejected", itemId=dead.item_id, stage=stage, reason=dead.letter["reason"])


def quarantine_for(topics: Topics, outbox: Outbox, metrics: Metrics, stage: Stage) -> Quarantine:
    """What a stage's agent does with a record it failed on: that record's dead letter."""

    async def quarantine(event: EventT[Any], error: BaseException) -> None:
        await reject(topics, outbox, metrics, stage_failure(stage, event.value, error))

    return quarantine


def refused_records(topics: Topics, metrics: Metrics) -> Callable[[Record, BaseException], Record]:
    """``Outbox.refused``: the dead letter sent in place of a record the broker refused for
    good, as the stage that wrote it. A refused dead letter is sent again without its
    original (its length and digest stay), so that it fits whatever the broker's limit."""
    rejected = topics.rejected.get_topic_name()
    stages: dict[str, Stage] = {}
    for lane in topics.lanes:
        stages[lane.cleaned.get_topic_name()] = "clean"
        stages[lane.unique.get_topic_name()] = "dedup"

    def refused(record: Record, error: BaseException) -> Record:
        limit = 0 if record.topic == rejected else MAX_ORIGINAL_BYTES
        dead = unsendable(stages.get(record.topic, "publish"), record.value, error, limit)
        stage = dead.letter["stage"]
        metrics.rejections.labels(metrics.worker, stage, "unsendable").inc()
        item_event("rejected", itemId=dead.item_id, stage=stage, reason=dead.letter["reason"])
        value = orjson.dumps(dead.letter)
        return Record(rejected, dead.item_id.encode(), value, headers("dead-letter"))

    return refused


async def announce(
    topics: Topics, outbox: Outbox, metrics: Metrics, stage: str, outcome: str, dup: Duplicate
) -> None:
    """A duplicate notice on ``wire.duplicates``, counted as ``outcome`` of ``stage`` and
    logged with its reason."""
    metrics.count(stage, outcome)
    notice = dup.notice
    item_event(
        "duplicate",
        itemId=dup.item_id,
        stage=stage,
        duplicateOf=notice["duplicateOf"],
        reason=notice["reason"],
    )
    await outbox.send(
        topics.duplicates, dup.item_id.encode(), orjson.dumps(notice), headers("duplicate-notice")
    )


async def advise(topics: Topics, outbox: Outbox, metrics: Metrics, note: Advisory) -> None:
    """An advisory on ``wire.advisories``, keyed by its item id, counted and logged."""
    metrics.count("dedup", "advisory")
    item_event("advisory", itemId=note.item_id, refersTo=note.notice.get("refersTo"))
    await outbox.send(
        topics.advisories, note.item_id.encode(), orjson.dumps(note.notice), headers("advisory")
    )
