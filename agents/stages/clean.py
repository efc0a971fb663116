"""The clean agent: raw items in, cleaned items (keyed by fingerprint) or dead letters out."""

from __future__ import annotations

import time
from collections.abc import Sequence

import faust
from faust.types import EventT

from agents.kafka.outbox import Outbox, prepared
from agents.kafka.topics import Lane, Topics, headers
from agents.observe.metrics import Metrics
from agents.stages.cleaners import Cleaners
from agents.stages.lanes import FastLane
from agents.stages.outcomes import quarantine_for, reject
from pipeline.chain import DeadLetter
from pipeline.hops import CleanedRecord

CLEAN_BATCH = 32
CLEAN_WINDOW_S = 0.01


def register_clean(
    app: faust.App,
    topics: Topics,
    outbox: Outbox,
    metrics: Metrics,
    cleaners: Cleaners,
    fast_lane: FastLane,
) -> None:
    async def start_cleaning(events: Sequence[EventT[bytes]]) -> list[CleanedRecord | DeadLetter]:
        return await cleaners.clean([event.value for event in events])

    def register_lane(lane: Lane) -> None:
        async def clean_batch(events: Sequence[EventT[bytes]]) -> None:
            started = time.perf_counter()
            results = await prepared(events, start_cleaning)
            each = (time.perf_counter() - started) / len(events)
            for result in results:
                metrics.time_stage("clean", each)
                if isinstance(result, DeadLetter):
                    await reject(topics, outbox, metrics, result)
                else:
                    metrics.count("clean", "cleaned")
                    await outbox.send(
                        lane.cleaned, result.fingerprint.encode(), result.value, headers(None)
                    )

        fast_lane.agent(
            app,
            outbox,
            "clean",
            lane,
            lane.raw,
            clean_batch,
            CLEAN_BATCH,
            CLEAN_WINDOW_S,
            quarantine_for(topics, outbox, metrics, "clean"),
            start_cleaning,
        )

    for lane in topics.lanes:
        register_lane(lane)
