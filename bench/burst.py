"""Backpressure: a burst of raw items into ``wire.raw`` at once, and the worker's memory.

Starts the local broker if none answers, a worker (enrichment off unless ``--enrich``: the
burst measures flow control, not the model), produces ``--items`` items (a quarter exact
copies) as fast as the broker takes them, and samples the worker's resident memory until the
group has committed everything. Prints memory at rest and at peak, the drain rate, and how
often partitions were assigned (more than once: a consumer starved of heartbeats was kicked
out of the group).

    .venv/bin/python -m bench.burst --items 100000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time

from bench.worker import BenchWorker, LocalBroker, bench_settings, produce
from pipeline.config import Settings
from pipeline.records import RawItem, rfc3339, utc_now

WORDS = [f"{a}{b}{c}" for a in "bdfgklmnprstvz" for b in "aeiou" for c in "lmnrst"]


def burst_items(count: int, rng: random.Random) -> list[RawItem]:
    received = rfc3339(utc_now())
    items: list[RawItem] = []
    for number in range(count):
        if number % 4 == 3:
            content = items[rng.randrange(len(items))].content  # an exact copy
        else:
            paragraphs = [" ".join(rng.choices(WORDS, k=40)) + "." for _ in range(3)]
            content = f"Burst story {number}\n\n" + "\n\n".join(paragraphs)
        items.append(
            RawItem(
                id=f"burst-{number}",
                source=f"agency-{number % 5}",
                receivedAt=received,
                format="text",
                content=content,
            )
        )
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description="A burst of raw items and the worker's memory.")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--enrich", action="store_true")
    args = parser.parse_args()
    base = Settings.load()
    settings = bench_settings(base, "burst", enrich=args.enrich)
    items = burst_items(args.items, random.Random(7))
    with LocalBroker(base), BenchWorker(settings) as worker:
        began = time.perf_counter()
        asyncio.run(produce(settings, items))
        produced = time.perf_counter() - began
        worker.drain()
        drained = time.perf_counter() - began
    print(f"burst of {args.items:,} items (enrichment {'on' if args.enrich else 'off'})")
    rows = [
        ("produced in (s)", f"{produced:.1f}"),
        ("drained in (s)", f"{drained:.1f}"),
        ("items/s through the worker", f"{args.items / drained:,.0f}"),
        ("worker RSS at rest (MiB)", f"{worker.at_rest:.0f}"),
        ("worker RSS peak in the burst (MiB)", f"{worker.peak:.0f}"),
        ("peak / rest", f"{worker.peak / worker.at_rest:.2f}"),
        ("partition assignments (1: never kicked)", str(worker.rebalances())),
    ]
    print(f"| {'figure':<40} | {'value':>10} |\n|{'-' * 42}|{'-' * 12}|")
    for name, value in rows:
        print(f"| {name:<40} | {value:>10} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
