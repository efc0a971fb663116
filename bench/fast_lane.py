"""The fast lane: how long a flash or bulletin takes from ingest to publication while a queue
of routine items stands before it, beside a routine item sent at the same moment.

Starts the local broker if none answers and a worker with enrichment on (the model is what
makes routine items queue), produces ``--queue`` routine items to ``wire.raw`` (a quarter
exact copies, as ``bench.burst`` makes them; or Wikinews stories, ``--routine wikinews``),
then every ``--gap`` seconds one urgent item (in turn plain copy under a FLASH line, ninjs
urgency 1, NewsML-G2 urgency 2) and one routine item. Latency runs from just before the send
to when a consumer of ``stories.structured`` reads the story. Waits for the routine items
sent beside the flashes (they come out only once the queue before them has, so they show
what the flash skipped), up to ``--wait`` seconds.

    .venv/bin/python -m bench.fast_lane --queue 20000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from agents.kafka.clients import partitions_of, started_producer
from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames
from bench.burst import WORDS, burst_items
from bench.corpus import build
from bench.worker import BenchWorker, LocalBroker, bench_settings, produce
from pipeline.config import Settings
from pipeline.records import RawItem, new_item_id, rfc3339, utc_now

BODY = "A strong earthquake struck the capital on Monday, and buildings fell in the old town."


def urgent_item(number: int, rng: random.Random) -> tuple[str, RawItem]:
    """Urgent copy in the three formats that carry urgency, in turn; each a story of its own."""
    headline = f"Quake hits {rng.choice(WORDS).capitalize()} {number}"
    body = f"{BODY} " + " ".join(rng.choices(WORDS, k=30)) + "."
    kind = number % 3
    if kind == 0:
        name, content = "text FLASH", f"FLASH\n\n{headline}\n\n{body}"
    elif kind == 1:
        document = {"uri": f"urn:bench:{new_item_id()}", "headline": headline,
                    "body_text": body, "urgency": 1}  # fmt: skip
        name, content = "ninjs 1", orjson.dumps(document).decode()
    else:
        name, content = (
            "NewsML-G2 2",
            (
                '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:bench:'
                f'{new_item_id()}" version="1"><contentMeta><urgency>2</urgency>'
                f"<headline>{headline}</headline></contentMeta><contentSet><inlineXML><nitf>"
                f"<body><body.content><p>{body}</p></body.content></body></nitf></inlineXML>"
                "</contentSet></newsItem>"
            ),
        )
    item = RawItem(
        id=new_item_id(), source="bench-urgent", receivedAt=rfc3339(utc_now()),
        format="auto", content=content,
    )  # fmt: skip
    return name, item


def routine_item(rng: random.Random) -> RawItem:
    paragraphs = [" ".join(rng.choices(WORDS, k=40)) + "." for _ in range(3)]
    content = "Routine story beside a flash\n\n" + "\n\n".join(paragraphs)
    return RawItem(
        id=new_item_id(), source="bench-routine", receivedAt=rfc3339(utc_now()),
        format="text", content=content,
    )  # fmt: skip


@dataclass
class Probe:
    kind: str
    item: RawItem
    queued: int
    """Routine items without an outcome when it was sent."""
    sent_at: float
    latency: float = 0.0
    """Until its story was read; if it was not (``out`` false), until the wait ended."""
    out: bool = False


class Stories:
    """A consumer of ``stories.structured`` from its current end: when each item's story
    was read."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.read_at: dict[str, float] = {}

    async def start(self) -> None:
        names = TopicNames.for_settings(self.settings)
        admin = AIOKafkaAdminClient(**client_options(self.settings))
        await admin.start()
        try:
            outcomes = [names.structured, names.duplicates, names.rejected]
            self.outcome_partitions = await partitions_of(admin, outcomes)
        finally:
            await admin.close()
        partitions = [tp for tp in self.outcome_partitions if tp.topic == names.structured]
        self.consumer = AIOKafkaConsumer(**client_options(self.settings))
        await self.consumer.start()
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self.consumer.position(partition)
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=50)
            now = time.time()
            for records in batches.values():
                for record in records:
                    self.read_at[orjson.loads(record.value or b"{}")["newswire"]["itemId"]] = now

    async def outcomes(self) -> int:
        ends = await self.consumer.end_offsets(self.outcome_partitions)
        return int(sum(ends.values()))

    async def stop(self) -> None:
        self.task.cancel()
        await self.consumer.stop()


async def measure(settings: Settings, queue: list[RawItem], rounds: int, gap: float,
                  wait: float) -> list[Probe]:  # fmt: skip
    stories = Stories(settings)
    await stories.start()
    started = await stories.outcomes()
    raw = TopicNames.for_settings(settings).raw
    await produce(settings, queue)
    producer = await started_producer(settings)
    probes: list[Probe] = []
    rng = random.Random(3)
    try:
        for number in range(rounds):
            await asyncio.sleep(gap)
            queued = len(queue) - (await stories.outcomes() - started)
            kind, urgent = urgent_item(number, rng)
            for name, item in ((kind, urgent), ("routine", routine_item(rng))):
                probes.append(Probe(name, item, queued, time.time()))
                await producer.send_and_wait(raw, item.to_json(), key=item.key.encode())
        deadline = time.monotonic() + wait
        while any(p.item.id not in stories.read_at for p in probes):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await producer.stop()
        await stories.stop()
    ended = time.time()
    for probe in probes:
        probe.out = probe.item.id in stories.read_at
        probe.latency = stories.read_at.get(probe.item.id, ended) - probe.sent_at
    return probes


def main() -> int:
    parser = argparse.ArgumentParser(description="Flash latency behind a routine queue.")
    parser.add_argument("--queue", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--gap", type=float, default=3.0)
    parser.add_argument("--wait", type=float, default=3600.0)
    parser.add_argument(
        "--routine",
        choices=("synthetic", "wikinews"),
        default="synthetic",
        help="routine items as bench.burst makes them, or Wikinews stories (bench.corpus)",
    )
    args = parser.parse_args()
    base = Settings.load()
    settings = bench_settings(base, "fast-lane", enrich=True)
    if args.routine == "wikinews":
        queue = build(args.queue)
    else:
        queue = burst_items(args.queue, random.Random(7))
    with LocalBroker(base), BenchWorker(settings):
        probes = asyncio.run(measure(settings, queue, args.rounds, args.gap, args.wait))
    print(f"fast lane: {args.queue:,} routine items ({args.routine}) queued, enrichment on")
    print(f"| {'item':<14} | {'queued before it':>16} | {'ingest to publish (s)':>22} |")
    print(f"|{'-' * 16}|{'-' * 18}|{'-' * 24}|")
    for probe in probes:
        shown = f"{probe.latency:.2f}" if probe.out else f"> {probe.latency:.0f} (queued)"
        print(f"| {probe.kind:<14} | {probe.queued:>16,} | {shown:>22} |")
    urgent = [p.latency for p in probes if p.kind != "routine"]
    routine = [p for p in probes if p.kind == "routine"]
    bound = "" if all(p.out for p in routine) else "> "
    routine_median = statistics.median(p.latency for p in routine)
    print(
        f"urgent: median {statistics.median(urgent):.2f} s, max {max(urgent):.2f} s (goal <= 2 s); "
        f"routine beside them: median {bound}{routine_median:.1f} s, "
        f"ratio {bound}{routine_median / statistics.median(urgent):.0f}x"
    )
    if not all(p.out for p in probes if p.kind != "routine"):
        return 1
    return 0 if max(urgent) <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
