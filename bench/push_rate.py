"""Push delivery against the subscription topic it reads, in one run, to a local receiver
answering every POST in ``--delay-ms`` (5 ms).

1. Live: ``--live`` items produced at ``--rate`` items/s with the push on; records published
   per second on the subscription topic beside deliveries per second in the same window
   (goal: push >= 0.8 of the topic rate), and latency from publication on the topic to the
   receiver's 2xx (p50, p99).
2. Backlog: ``--items`` stories published to a subscription without push; then a plain
   consumer reads its topic end to end (records/s), and the subscription gains a push
   target and the worker's pusher delivers the same backlog (deliveries/s): how fast a
   receiver that was away catches up, beside the bound of a Kafka consumer.

    .venv/bin/python -m bench.push_rate [--items 5000] [--live 2000] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import urllib.request

import orjson
from aiokafka import ConsumerRecord

from agents.kafka.topics import subscription_topic
from bench.burst import burst_items
from bench.worker import BenchWorker, LocalBroker, bench_settings, produce
from pipeline.config import Settings
from pipeline.delivery.push import idempotency_key
from pipeline.records import RawItem
from tests.chaos.harness import read_records
from tests.receiver import Receiver, receiving

NAME = "bench"
SECRET = "bench-receiver-shared-secret"


def save(settings: Settings, push: str | None) -> None:
    body = {"name": NAME, "filter": {}} | (
        {"push": {"url": push, "secret": SECRET}} if push else {}
    )
    request = urllib.request.Request(
        settings.web_url + "/subscriptions", data=orjson.dumps(body), method="POST"
    )
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201, response.status
    time.sleep(3)  # the command reaches every worker's table


def topic_rate(settings: Settings) -> tuple[list[ConsumerRecord[bytes, bytes]], float]:
    began = time.perf_counter()
    records = asyncio.run(read_records(settings, subscription_topic(settings, NAME)))
    return records, len(records) / (time.perf_counter() - began)


def wait_delivered(receiver: Receiver, keys: set[str], timeout: float = 1800) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        taken = {r.headers.get("Idempotency-Key") for r in receiver.delivered()}
        if keys <= taken:
            return
        time.sleep(0.5)
    raise SystemExit("the receiver never took every record")


def first_takes(receiver: Receiver) -> dict[str, float]:
    taken: dict[str, float] = {}
    for request in receiver.delivered():
        taken.setdefault(request.headers.get("Idempotency-Key", ""), request.at)
    return taken


def key_of(record: ConsumerRecord[bytes, bytes]) -> str:
    return idempotency_key(orjson.loads(record.value or b"{}"))


def backlog(
    settings: Settings, receiver: Receiver, items: list[RawItem], worker: BenchWorker
) -> list[str]:
    save(settings, None)
    asyncio.run(produce(settings, items))
    worker.drain()
    records, read_rate = topic_rate(settings)
    keys = {key_of(r) for r in records}
    save(settings, receiver.url)
    wait_delivered(receiver, keys)
    times = sorted(first_takes(receiver).values())
    push_rate = len(keys) / max(times[-1] - times[0], 1e-9)
    return [
        f"backlog: {len(keys):,} records on the subscription topic",
        f"  read by a plain consumer: {read_rate:,.0f} records/s",
        f"  pushed to the receiver:   {push_rate:,.0f} deliveries/s",
        f"  push / plain consumer: {push_rate / read_rate:.2f} (a bound: the consumer makes no "
        "request per record)",
    ]


def live(settings: Settings, receiver: Receiver, items: list[RawItem], rate: float) -> list[str]:
    topic = subscription_topic(settings, NAME)
    already = {key_of(r) for r in asyncio.run(read_records(settings, topic))}
    began = time.time()
    for start in range(0, len(items), max(int(rate), 1)):
        asyncio.run(produce(settings, items[start : start + max(int(rate), 1)]))
        time.sleep(max(0.0, began + (start + rate) / rate - time.time()))
    records = []
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        found = asyncio.run(read_records(settings, topic))
        records = [r for r in found if key_of(r) not in already]
        if len(records) >= len(items) * 0.7:
            break
        time.sleep(2)
    published = {key_of(r): r.timestamp / 1000 for r in records}
    wait_delivered(receiver, set(published))
    taken = first_takes(receiver)
    latencies = sorted(taken[key] - at for key, at in published.items())
    span = max(published.values()) - min(published.values())
    pushed_span = max(taken[k] for k in published) - min(taken[k] for k in published)
    return [
        f"live: {len(items):,} items at {rate:.0f}/s, {len(published):,} records published",
        f"  published on the topic: {len(published) / span:,.1f} records/s",
        f"  pushed to the receiver: {len(published) / pushed_span:,.1f} deliveries/s",
        f"  push / topic: {span / pushed_span:.2f} (goal >= 0.8)",
        f"  publication -> 2xx: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description="Push deliveries against the topic rate.")
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--live", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    args = parser.parse_args()
    base = Settings.load()
    settings = bench_settings(base, "push", enrich=False, push_allow_hosts="127.0.0.1")
    rng = random.Random(11)
    items = [i for n, i in enumerate(burst_items(args.items + args.live, rng)) if n % 4 != 3]
    delay = args.delay_ms / 1000
    with (
        LocalBroker(base),
        receiving(settings.web_port + 1, lambda body: 200, lambda: delay) as receiver,
        BenchWorker(settings) as worker,
    ):
        lines = backlog(settings, receiver, items[: args.items * 3 // 4], worker)
        lines += live(settings, receiver, items[args.items * 3 // 4 :], args.rate)
    print(f"push to a receiver answering in {args.delay_ms:g} ms")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
