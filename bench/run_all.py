"""Every throughput, latency and memory figure beside its limit, measured in one run.

    .venv/bin/python -m bench.run_all [--stories N] [--quick]

Uses the configured broker (else starts the local one) and fresh topics for each figure:

1. Transport: a plain aiokafka consume -> produce loop copying the corpus between two topics,
   beside Newswire with enrichment off (clean, dedup, publish). Goal >= 0.5. Beside it, what
   the gap is made of: the same steps in-process without Kafka, and in a loop without Faust.
2. Enrichment: spaCy ``nlp.pipe`` over the published stories' text offline (one process and
   two), beside Newswire end to end with enrichment (one worker, then two). Goals >= 0.85,
   and two workers >= 1.7x one.
3. Batch: ``newswire process`` over the same items, beside streaming.
4. Latency: received -> published p50/p95/p99 with an open-loop producer at 25%, 50% and 80%
   of the measured rate. Goal: p99 <= 1 s at 50%.
5. Memory: the worker's resident memory with the model loaded, at rest and at peak. Goal <= 1 GB.
6. Cost: time per story from 100 to 5,000 words (``bench.dedup_cost`` gives the dedup state
   from 10k to 1M stories).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from multiprocessing import Pool
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames, TopicSpec, ensure_topics
from bench.common import WIKINEWS, wikinews_rows
from bench.corpus import build, paragraphs_of
from bench.worker import (
    BenchWorker,
    LocalBroker,
    bench_settings,
    broker_pid,
    cpu_seconds,
    process_tree,
    produce,
)
from pipeline.chain import Published, run_chain
from pipeline.config import Settings
from pipeline.dedup import DedupConfig, DedupIndex
from pipeline.enrich import ParagraphCache, load_enricher
from pipeline.records import RawItem, rfc3339, utc_now

LATENCY_SECONDS = 20.0
EXCLUDED = ["tagger", "parser", "attribute_ruler", "lemmatizer", "senter", "morphologizer"]


@dataclass
class Row:
    figure: str
    ours: str
    limit: str
    ratio: str
    goal: str


def passthrough(base: Settings, items: list[RawItem]) -> tuple[float, float]:
    """Messages/s and MB/s of a plain consume -> produce copy between two topics."""
    settings = bench_settings(base, "pass")
    source, target = f"{settings.topic_prefix}source", f"{settings.topic_prefix}target"
    specs: dict[str, TopicSpec] = {
        source: (settings.partitions, {}),
        target: (settings.partitions, {}),
    }
    asyncio.run(ensure_topics(settings, specs))
    asyncio.run(produce(settings, items, source))

    async def copy() -> tuple[float, int]:
        consumer = AIOKafkaConsumer(
            source,
            **client_options(settings),
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=settings.max_item_bytes * 2,
        )
        producer = AIOKafkaProducer(
            **client_options(settings), acks="all", enable_idempotence=True, linger_ms=5
        )
        await consumer.start()
        await producer.start()
        copied = size = 0
        pending = []
        started = time.perf_counter()
        try:
            while copied < len(items):
                batch = await consumer.getmany(timeout_ms=1000, max_records=2000)
                for records in batch.values():
                    for record in records:
                        pending.append(await producer.send(target, record.value, key=record.key))
                        copied += 1
                        size += len(record.value or b"")
            await asyncio.gather(*pending)
            return time.perf_counter() - started, size
        finally:
            await consumer.stop()
            await producer.stop()

    elapsed, size = asyncio.run(copy())
    return len(items) / elapsed, size / elapsed / 1e6


@dataclass
class Streamed:
    rate: float
    """Items/s from the first record to the last item's outcome."""
    cores: float
    """CPU seconds of the workers and the local broker per second of the run: 2.0 is the
    whole machine."""
    worker: BenchWorker


def streaming(
    base: Settings, items: list[RawItem], enrich: bool, workers: int = 1, preload: bool = True
) -> Streamed:
    """Items/s through Newswire from the first record to the last item's outcome. With
    ``preload`` the items wait on wire.raw before the worker starts (the transport case);
    otherwise they are produced once every worker is ready (timed from the first send)."""
    settings = bench_settings(base, "stream", enrich=enrich)
    asyncio.run(ensure_topics(settings))
    if preload:
        asyncio.run(produce(settings, items))
    others = [
        replace(settings, home=settings.home / f"w{n}", web_port=settings.web_port + n)
        for n in range(1, workers)
    ]
    first = BenchWorker(settings)
    helpers = [BenchWorker(other) for other in others]
    for other in others:
        other.home.mkdir(parents=True)
    with first:
        for helper in helpers:
            helper.__enter__()
        tops = [first.process.pid, *(helper.process.pid for helper in helpers)]
        pids = [*(pid for top in tops for pid in process_tree(top)), broker_pid(base)]
        try:
            used = sum(cpu_seconds(pid) for pid in pids)
            measured_from = time.perf_counter()
            # Preloaded items start flowing before the worker reports ready: the clock starts
            # at readiness, and only the outcomes after it are counted.
            started = first.ready_at if preload else measured_from
            done_before = first.outcomes_at_ready if preload else 0
            if not preload:
                asyncio.run(produce(settings, items))
            first.wait_for_outcomes(len(items))
            finished = time.perf_counter()
            elapsed = finished - started
            used = sum(cpu_seconds(pid) for pid in pids) - used
            first.drain()
        finally:
            for helper in helpers:
                helper.__exit__(None, None, None)
    return Streamed(
        (len(items) - done_before) / elapsed, used / max(finished - measured_from, 1e-3), first
    )


def chain_rate(base: Settings, items: list[RawItem]) -> float:
    """Items/s of the stage functions alone (``run_chain`` in this process, enrichment off,
    no Kafka): the CPU work every item needs, whatever carries it."""
    index, config = DedupIndex(), DedupConfig()
    started = time.perf_counter()
    for item in items:
        run_chain(item.to_json(), index, base.max_item_bytes, base.validate_stories, config)
    return len(items) / (time.perf_counter() - started)


def plain_loop_rate(base: Settings, items: list[RawItem]) -> float:
    """Items/s of a loop without Faust: aiokafka reads wire.raw, ``run_chain`` runs every
    stage in-process (no internal topics), each story goes to stories.structured."""
    settings = bench_settings(base, "loop")
    names = TopicNames.for_settings(settings)
    asyncio.run(ensure_topics(settings))
    asyncio.run(produce(settings, items))

    async def run() -> float:
        consumer = AIOKafkaConsumer(
            names.raw,
            **client_options(settings),
            group_id=settings.faust_id,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_partition_fetch_bytes=settings.max_item_bytes * 2,
        )
        producer = AIOKafkaProducer(
            **client_options(settings), acks="all", enable_idempotence=True, linger_ms=5
        )
        await consumer.start()
        await producer.start()
        index, config, done = DedupIndex(), DedupConfig(), 0
        started = time.perf_counter()
        try:
            while done < len(items):
                batch = await consumer.getmany(timeout_ms=1000, max_records=500)
                pending = []
                for records in batch.values():
                    for record in records:
                        outcome = run_chain(
                            record.value or b"",
                            index,
                            settings.max_item_bytes,
                            settings.validate_stories,
                            config,
                        )
                        if isinstance(outcome, Published):
                            value = orjson.dumps(outcome.story)
                            key = outcome.story["uri"].encode()
                            pending.append(await producer.send(names.structured, value, key=key))
                        done += 1
                await asyncio.gather(*pending)
                await consumer.commit()
            return time.perf_counter() - started
        finally:
            await consumer.stop()
            await producer.stop()

    return len(items) / asyncio.run(run())


def published_texts(items: list[RawItem]) -> list[str]:
    """The text of each item that becomes a story (new or new version), as the worker sees it."""
    index, config, texts = DedupIndex(), DedupConfig(), []
    for item in items:
        outcome = run_chain(item.to_json(), index, 1 << 22, False, config)
        if isinstance(outcome, Published):
            texts.append(outcome.story["bodies"][0]["value"])
    return texts


def spacy_rate(texts: list[str]) -> float:
    import spacy

    nlp = spacy.load(load_enricher().model, exclude=EXCLUDED)
    list(nlp.pipe(texts[:5]))
    started = time.perf_counter()
    list(nlp.pipe(texts, batch_size=32))
    return len(texts) / (time.perf_counter() - started)


def _spacy_half(texts: list[str]) -> int:
    import spacy

    nlp = spacy.load(load_enricher().model, exclude=EXCLUDED)
    return len(list(nlp.pipe(texts, batch_size=32)))


def spacy_rate_two_processes(texts: list[str]) -> float:
    with Pool(2) as pool:
        pool.map(_spacy_half, [texts[:4], texts[4:8]])  # load the model in both first
        started = time.perf_counter()
        pool.map(_spacy_half, [texts[0::2], texts[1::2]])
        return len(texts) / (time.perf_counter() - started)


def batch_rate(items: list[RawItem], home: Path) -> float:
    corpus = home / "corpus.jsonl"
    corpus.write_bytes(b"".join(item.to_json() + b"\n" for item in items))
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "agents.cli", "process", str(corpus), "--emit", "all"],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return len(items) / (time.perf_counter() - started)


def latencies(base: Settings, rates: list[float], seed: int) -> list[dict[str, float]]:
    """Open loop: items sent on a fixed schedule (never waiting for the pipeline), then each
    story's publication time (its record's timestamp) minus its receivedAt."""
    settings = bench_settings(base, "latency")
    found = []
    with BenchWorker(settings):
        for number, rate in enumerate(rates):
            count = max(10, int(rate * LATENCY_SECONDS))
            items = build(count, seed + number)
            asyncio.run(_send_at(settings, items, rate))
            time.sleep(5)
            found.append(asyncio.run(_story_latencies(settings, {i.id for i in items})))
    return found


async def _send_at(settings: Settings, items: list[RawItem], rate: float) -> None:
    producer = AIOKafkaProducer(**client_options(settings), acks="all", enable_idempotence=True)
    await producer.start()
    topic = TopicNames.for_settings(settings).raw
    pending = []
    started = time.perf_counter()
    try:
        for number, item in enumerate(items):
            delay = started + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            stamped = replace(item, receivedAt=rfc3339(utc_now()))
            pending.append(await producer.send(topic, stamped.to_json(), key=item.key.encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _story_latencies(settings: Settings, ids: set[str]) -> dict[str, float]:
    from datetime import datetime

    consumer = AIOKafkaConsumer(
        TopicNames.for_settings(settings).structured,
        **client_options(settings),
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=settings.max_item_bytes * 2,
    )
    await consumer.start()
    values: list[float] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=5000)
            if not batch:
                break
            for records in batch.values():
                for record in records:
                    story = orjson.loads(record.value or b"{}")
                    newswire = story.get("newswire", {})
                    if newswire.get("itemId") in ids:
                        received = datetime.fromisoformat(newswire["receivedAt"]).timestamp()
                        values.append(record.timestamp / 1000 - received)
    finally:
        await consumer.stop()
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0

    return {"n": len(values), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}


def cost_by_length(lengths: list[int]) -> list[tuple[int, float]]:
    """Median ms per story (clean, dedup, enrich) for stories of ``lengths`` words."""
    pool = paragraphs_of(wikinews_rows(WIKINEWS))
    enricher = load_enricher()
    found = []
    for words in lengths:
        times = []
        for number in range(8):
            paragraphs: list[str] = []
            start = number * 37
            while sum(len(p.split()) for p in paragraphs) < words:
                paragraphs.append(pool[(start + len(paragraphs)) % len(pool)])
            text = " ".join(" ".join(paragraphs).split()[:words])
            content = f"Story of {words} words number {number}\n\n" + text
            item = RawItem(
                id=f"len-{words}-{number}",
                source="bench",
                receivedAt=rfc3339(utc_now()),
                format="text",
                content=content,
            )
            enricher.cache = ParagraphCache(enricher.cache.size)  # every paragraph new
            started = time.perf_counter()
            run_chain(
                item.to_json(), DedupIndex(), 1 << 22, False, DedupConfig(), enricher.enrich_many
            )
            times.append(time.perf_counter() - started)
        found.append((words, statistics.median(times) * 1000))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description="Throughput, latency and memory beside limits.")
    parser.add_argument("--stories", type=int, default=1500, help="items in the corpus")
    parser.add_argument("--quick", action="store_true", help="skip the two-worker run")
    args = parser.parse_args()
    base = Settings.load()
    items = build(args.stories)
    rows: list[Row] = []
    with LocalBroker(base):
        copy_rate, copy_mb = passthrough(base, items)
        plain = streaming(base, items, enrich=False)
        rows.append(
            Row(
                "transport: items/s (enrichment off)",
                f"{plain.rate:,.0f} ({plain.cores:.1f} cores busy)",
                f"{copy_rate:,.0f} ({copy_mb:.1f} MB/s)",
                f"{plain.rate / copy_rate:.3f}",
                ">= 0.5",
            )
        )
        steps = chain_rate(base, items)
        rows.append(
            Row(
                "steps alone: items/s (enrichment off)",
                f"{plain.rate:,.0f}",
                f"{steps:,.0f} (run_chain in-process, no Kafka)",
                f"{plain.rate / steps:.2f}",
                "",
            )
        )
        loop = plain_loop_rate(base, items)
        rows.append(
            Row(
                "without Faust: items/s (enrichment off)",
                f"{plain.rate:,.0f}",
                f"{loop:,.0f} (aiokafka -> run_chain -> aiokafka)",
                f"{plain.rate / loop:.2f}",
                "",
            )
        )
        texts = published_texts(items)
        share = len(texts) / len(items)
        one = streaming(base, items, enrich=True, preload=False)
        one_rate, worker = one.rate, one.worker
        stories_rate = one_rate * share
        spacy_one = spacy_rate(texts)
        spacy_two = spacy_rate_two_processes(texts)
        rows.append(
            Row(
                "enrichment: stories/s, 1 worker",
                f"{stories_rate:.1f} ({one.cores:.1f} cores busy)",
                f"{spacy_one:.1f} (nlp.pipe, 1 process)",
                f"{stories_rate / spacy_one:.2f}",
                ">= 0.85",
            )
        )
        if not args.quick:
            two = streaming(base, items, enrich=True, workers=2, preload=False)
            rows.append(
                Row(
                    "enrichment: stories/s, 2 workers",
                    f"{two.rate * share:.1f} ({two.cores:.1f} cores busy)",
                    f"{spacy_two:.1f} (nlp.pipe, 2 processes)",
                    f"{two.rate / one_rate:.2f} x 1 worker",
                    ">= 1.7 x",
                )
            )
        batch = batch_rate(items, worker.settings.home)
        rows.append(
            Row(
                "batch: items/s, newswire process",
                f"{batch:.1f}",
                f"{one_rate:.1f} (streaming, 1 worker)",
                f"{batch / one_rate:.2f}",
                "",
            )
        )
        rows.append(
            Row(
                "memory: worker RSS MiB, model loaded",
                f"{worker.at_rest:.0f} at rest, {worker.peak:.0f} peak",
                "1024",
                f"{worker.peak / 1024:.2f}",
                "<= 1.0",
            )
        )
        loads = [0.25, 0.5, 0.8]
        for load, figures in zip(
            loads, latencies(base, [one_rate * load for load in loads], 500), strict=True
        ):
            rows.append(
                Row(
                    f"latency at {load:.0%} of {one_rate:.1f} items/s (n={figures['n']:.0f})",
                    f"p50 {figures['p50']:.2f} s, p95 {figures['p95']:.2f} s",
                    f"p99 {figures['p99']:.2f} s",
                    "",
                    "p99 <= 1 s at 50%",
                )
            )
    for words, ms in cost_by_length([100, 500, 1000, 2000, 5000]):
        rows.append(
            Row(
                f"cost: story of {words:,} words",
                f"{ms:.1f} ms",
                f"{ms * 1000 / words:.0f} us/word",
                "",
                "flat or linear",
            )
        )
    print(f"corpus: {len(items)} items, {len(texts)} become stories ({share:.0%})")
    print("| figure | Newswire | limit | ratio | goal |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row.figure} | {row.ours} | {row.limit} | {row.ratio} | {row.goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
