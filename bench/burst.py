"""Backpressure: a burst of raw items into ``wire.raw`` at once, and the worker's memory.

Starts the local broker if none answers, a worker (enrichment off unless ``--enrich``: the
burst measures flow control, not the model), produces ``--items`` items (a quarter exact
copies) as fast as the broker takes them, and samples the worker's resident memory until the
group has committed everything. Prints memory at rest and at peak, the drain rate, and how
often the consumer group rebalanced (a consumer starved of heartbeats would be kicked out).

    .venv/bin/python -m bench.burst --items 100000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

from agents import localkafka
from agents.clients import group_caught_up, produce_raw_items, started_producer
from agents.topics import TopicNames, ensure_topics
from pipeline.config import Settings
from pipeline.records import RawItem, rfc3339, utc_now

CHUNK = 5000
WORDS = [f"{a}{b}{c}" for a in "bdfgklmnprstvz" for b in "aeiou" for c in "lmnrst"]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


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


async def produce(settings: Settings, items: list[RawItem]) -> None:
    producer = await started_producer(settings)
    topic = TopicNames.for_settings(settings).raw
    try:
        for start in range(0, len(items), CHUNK):
            report = await produce_raw_items(producer, topic, items[start : start + CHUNK])
            if report.failures:
                raise SystemExit(f"{len(report.failures)} items not acknowledged")
    finally:
        await producer.stop()


def wait_ready(settings: Settings, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the worker exited at start")
        try:
            with urllib.request.urlopen(settings.web_url + "/ready", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the worker did not become ready")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--enrich", action="store_true")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="newswire-burst-"))
    base = Settings.load()
    run = uuid.uuid4().hex[:8]
    settings = replace(
        base,
        topic_prefix=f"burst-{run}.",
        app_id=f"newswire-burst-{run}",
        home=home,
        enrich=args.enrich,
        web_port=base.web_port + 17,
    )
    started = False
    if base.uses_local_broker and not localkafka.broker_answers(base):
        print(localkafka.start(base))
        started = True
    asyncio.run(ensure_topics(settings))
    log = home / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(
            [sys.executable, "-m", "agents.cli", "worker"],
            env=dict(os.environ) | settings.as_environment(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mib(worker.pid))
            time.sleep(0.2)

    try:
        wait_ready(settings, worker)
        time.sleep(3)
        at_rest = rss_mib(worker.pid)
        items = burst_items(args.items, random.Random(7))
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.perf_counter()
        asyncio.run(produce(settings, items))
        produced = time.perf_counter() - began
        while not asyncio.run(group_caught_up(settings)):
            if worker.poll() is not None:
                raise SystemExit(f"the worker died during the burst; see {log}")
            time.sleep(2)
        drained = time.perf_counter() - began
        done.set()
        sampler.join()
        rebalances = log.read_text(errors="replace").count("Executing _on_partitions_assigned")
        print(f"burst of {args.items:,} items (enrichment {'on' if args.enrich else 'off'})")
        print(f"| {'figure':<34} | {'value':>12} |")
        print(f"|{'-' * 36}|{'-' * 14}|")
        rows = [
            ("produced in (s)", f"{produced:.1f}"),
            ("drained in (s)", f"{drained:.1f}"),
            ("items/s through the worker", f"{args.items / drained:,.0f}"),
            ("worker RSS at rest (MiB)", f"{at_rest:.0f}"),
            ("worker RSS peak in burst (MiB)", f"{peak[0]:.0f}"),
            ("peak / rest", f"{peak[0] / at_rest:.2f}"),
            ("partition assignments (1 = none lost)", str(rebalances)),
        ]
        for name, value in rows:
            print(f"| {name:<34} | {value:>12} |")
    finally:
        done.set()
        worker.terminate()
        worker.wait(timeout=60)
        if started:
            print(localkafka.stop(base))
    return 0


if __name__ == "__main__":
    sys.exit(main())
