"""The dedup agent: cleaned items in, one decision each (new story, new version, duplicate)
out, against the stories table and the in-memory indexes derived from it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence, Sized
from typing import Any

import faust
from faust.types import EventT

from agents.kafka.outbox import Outbox
from agents.kafka.topics import DEDUP_PARTITIONS, Lane, Topics, headers
from agents.observe.logs import log, never_fatal
from agents.observe.metrics import Metrics
from agents.stages.lanes import FastLane
from agents.stages.outcomes import advise, announce, quarantine_for
from pipeline.chain import Advisory, Cleaned, Duplicate, dedup_step
from pipeline.dedup import DedupConfig, DedupIndex, Sweeper, rebuild_derived
from pipeline.triage import publish_in_fast_lane

TABLE_SIZE_INTERVAL_S = 30.0


def register_dedup(
    app: faust.App,
    topics: Topics,
    outbox: Outbox,
    metrics: Metrics,
    config: DedupConfig,
    fast_lane: FastLane,
) -> None:
    index = DedupIndex(
        stories=app.Table("dedup-stories", partitions=DEDUP_PARTITIONS, key_type=str)
    )
    derived = DerivedFreshness()
    sweeper = Sweeper(index, config.retention)

    @app.on_partitions_assigned.connect
    async def mark_derived_stale(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        derived.assignments += 1

    def register_lane(lane: Lane) -> None:
        async def decide(events: Sequence[EventT[bytes]]) -> None:
            (event,) = events
            # Events come once the table is restored: the derived indexes follow it.
            await derived.refresh(index)
            # Tables change only inside stream iteration, so expiry runs here, a few stories
            # per item, at event time.
            sweeper.step(index.clock.now())
            started = time.perf_counter()
            result = dedup_step(Cleaned.from_json(event.value), index, config)
            metrics.time_stage("dedup", time.perf_counter() - started)
            if isinstance(result, Duplicate):
                await announce(topics, outbox, metrics, "dedup", "duplicate", result)
            elif isinstance(result, Advisory):
                await advise(topics, outbox, metrics, result)
            else:
                metrics.count("dedup", result.decision.status)
                fast = lane.name == "urgent" and publish_in_fast_lane(result.decision)
                target = topics.urgent.unique if fast else topics.routine.unique
                await outbox.send(
                    target, result.decision.uri.encode(), result.to_json(), headers(None)
                )

        quarantine = quarantine_for(topics, outbox, metrics, "dedup")
        fast_lane.agent(app, outbox, "dedup", lane, lane.cleaned, decide, quarantine=quarantine)

    # Both lanes decide against the same tables: their single partitions go to one worker
    # together, and a decision runs without a pause, so the two never interleave.
    for lane in topics.lanes:
        register_lane(lane)

    async def measure_tables() -> None:
        # len() of a RocksDB table walks its keys: off the event loop. The derived indexes
        # are replaced when rebuilt, so they are looked up each time.
        tables = {f"dedup-{name}": getattr(index, name) for name in ("stories", "keys", "bands")}
        with never_fatal("measuring the tables"):
            sizes = await asyncio.get_running_loop().run_in_executor(None, table_sizes, tables)
            for name, size in sizes.items():
                metrics.table_entries.labels(metrics.worker, name).set(size)

    app.timer(TABLE_SIZE_INTERVAL_S)(measure_tables)


class DerivedFreshness:
    """Keeps the in-memory indexes (lookup keys, bands, headlines) in step with the stories
    table: after any assignment (the table may have been restored or changed hands) they are
    rebuilt before the next decision, in a thread, so heartbeats go on while a large table is
    read."""

    def __init__(self) -> None:
        self.assignments = 0
        self._built_for = -1

    async def refresh(self, index: DedupIndex) -> None:
        if self._built_for == self.assignments:
            return
        wanted = self.assignments
        started = time.perf_counter()
        stories = await asyncio.get_running_loop().run_in_executor(None, rebuild_derived, index)
        self._built_for = wanted
        log.info(
            "dedup indexes rebuilt from %d stories in %.1f s",
            stories,
            time.perf_counter() - started,
        )


def table_sizes(tables: Mapping[str, Sized]) -> dict[str, int]:
    """Entries per table; a table changing under a rebalance is skipped until next time."""
    sizes = {}
    for name, table in tables.items():
        try:
            sizes[name] = len(table)
        except RuntimeError:
            continue
    return sizes
