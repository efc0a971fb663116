"""A worker process for the streaming benchmarks: started on its own topics, its memory
sampled, timed until its consumer group has committed everything."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from agents.kafka import broker
from agents.kafka.clients import group_caught_up, partitions_of, produce_raw_items, started_producer
from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames, ensure_topics
from pipeline.config import Settings
from pipeline.records import RawItem

CHUNK = 5000


def process_tree(pid: int) -> list[int]:
    """A process and its descendants: the worker and its cleaning processes."""
    children = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children += [int(child) for child in listing.read_text().split()]
        except OSError:
            continue
    return [pid, *(found for child in children for found in process_tree(child))]


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its descendants in MiB (0 once it is gone)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmRSS:"))
    return total


def cpu_seconds(pid: int | None) -> float:
    """User plus system CPU time a process (all its threads) has used so far (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def broker_pid(settings: Settings) -> int | None:
    """The local broker's process (None for a configured remote broker)."""
    return broker.read_pid(broker.paths_for(settings))


def bench_settings(base: Settings, name: str, **overrides: object) -> Settings:
    """Fresh topics, app id, state folder and web port for one measurement."""
    run = uuid.uuid4().hex[:8]
    return replace(
        base,
        topic_prefix=f"bench-{name}-{run}.",
        app_id=f"newswire-bench-{run}",
        home=Path(tempfile.mkdtemp(prefix=f"newswire-bench-{name}-")),
        web_port=base.web_port + 17,
        **overrides,  # type: ignore[arg-type]
    )


class LocalBroker:
    """The configured broker, or the local one started for the run (and stopped after)."""

    def __init__(self, settings: Settings) -> None:
        self.settings, self.started = settings, False

    def __enter__(self) -> LocalBroker:
        if self.settings.uses_local_broker and not broker.broker_answers(self.settings):
            print(broker.start(self.settings), file=sys.stderr)
            self.started = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            print(broker.stop(self.settings), file=sys.stderr)


async def produce(settings: Settings, items: list[RawItem], topic: str | None = None) -> None:
    """Every item acknowledged (acks=all), in chunks, as fast as the broker takes them."""
    producer = await started_producer(settings)
    topic = topic or TopicNames.for_settings(settings).raw
    try:
        for start in range(0, len(items), CHUNK):
            report = await produce_raw_items(producer, topic, items[start : start + CHUNK])
            if report.failures:
                raise SystemExit(f"{len(report.failures)} items not acknowledged")
    finally:
        await producer.stop()


class BenchWorker:
    """``newswire worker`` for ``settings``, with its peak memory sampled five times a second."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.log = settings.home / "worker.log"
        self.peak = 0.0
        self._done = threading.Event()

    def __enter__(self) -> BenchWorker:
        asyncio.run(ensure_topics(self.settings))
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "agents.cli", "worker"],
                env=dict(os.environ) | self.settings.as_environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()
        # Preloaded items flow before the worker is ready: when it was, and how many were out.
        self.ready_at = time.perf_counter()
        self.outcomes_at_ready = self.outcomes()
        time.sleep(2)
        self.at_rest = rss_mib(self.process.pid)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, rss_mib(self.process.pid))
            time.sleep(0.2)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the worker exited at start; see {self.log}")
            try:
                with urllib.request.urlopen(self.settings.web_url + "/ready", timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("the worker did not become ready")

    def outcomes(self) -> int:
        """Outcome records on their topics so far (stories, duplicate notices, dead letters:
        one per item)."""
        return asyncio.run(self._count_outcomes(until=0, deadline=0.0))

    def wait_for_outcomes(self, count: int, timeout: float = 3600) -> None:
        """Until ``count`` outcome records are on their topics, acknowledged. The group's
        offset commit follows within Faust's commit interval (2.8 s) and is bookkeeping, so
        throughput is timed to here."""
        asyncio.run(self._count_outcomes(until=count, deadline=time.monotonic() + timeout))

    async def _count_outcomes(self, until: int, deadline: float) -> int:
        names = TopicNames.for_settings(self.settings)
        admin = AIOKafkaAdminClient(**client_options(self.settings))
        consumer = AIOKafkaConsumer(**client_options(self.settings))
        await admin.start()
        await consumer.start()
        try:
            topics = [names.structured, names.duplicates, names.rejected]
            partitions = await partitions_of(admin, topics)
            while (found := int(sum((await consumer.end_offsets(partitions)).values()))) < until:
                if self.process.poll() is not None:
                    raise SystemExit(f"the worker died; see {self.log}")
                if time.monotonic() > deadline:
                    raise SystemExit("the worker did not finish in time")
                await asyncio.sleep(0.1)
            return found
        finally:
            await consumer.stop()
            await admin.close()

    def drain(self, timeout: float = 3600) -> None:
        """Until the group has committed everything (the last hop included)."""
        deadline = time.monotonic() + timeout
        while not asyncio.run(group_caught_up(self.settings)):
            if self.process.poll() is not None:
                raise SystemExit(f"the worker died; see {self.log}")
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not drain in time")
            time.sleep(0.5)

    def rebalances(self) -> int:
        return self.log.read_text(errors="replace").count("Executing _on_partitions_assigned")
