"""What every stage writes besides its hand-over: dead letters, duplicate notices and advisories,
counted and logged, and what takes the place of a record that cannot be handled or sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from faust.types import EventT

from agents.kafka.outbox import Outbox, Quarantine, Record
from agents.kafka.topics import Topics, headers
from agents.observe.logs import item_event
from agents.observe.metrics import Metrics
from pipeline.chain import Advisory, DeadLetter, Duplicate, stage_failure, unsendable
from pipeline.limits import MAX_ORIGINAL_BYTES
from pipeline.records import Stage


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
