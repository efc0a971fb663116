"""Integration fixtures: a real Apache Kafka broker and a real worker process.

The broker is the one ``NEWSWIRE_KAFKA_BOOTSTRAP`` names, else the local KRaft broker, started
here if it is not running (and stopped again at the end). Each test session uses its own topic
prefix and app id, so runs never see each other's records or state.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from agents.kafka import broker
from agents.kafka.clients import Outcome, read_topic, send_and_collect
from agents.kafka.topics import TopicNames
from pipeline.config import Settings
from pipeline.records import RawItem
from tests.conftest import ROOT

pytestmark = pytest.mark.kafka


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def kafka() -> Iterator[Settings]:
    settings = Settings.load()
    started = False
    if settings.uses_local_broker and not broker.status(settings)[0]:
        broker.start(settings)
        started = True
    elif not broker.broker_answers(settings):
        pytest.fail(f"NEWSWIRE_KAFKA_BOOTSTRAP={settings.bootstrap} does not answer")
    yield settings
    if started:
        broker.stop(settings)


@contextmanager
def own_broker(suite: Settings, home: Path, **overrides: Any) -> Iterator[Settings]:
    """A second local broker on free ports under ``home`` (the suite's jars, no second Maven
    run), for tests that stop it or configure it otherwise."""
    settings = replace(
        suite,
        home=home,
        kafka_bootstrap="",
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        **overrides,
    )
    broker.ensure_jars(broker.paths_for(suite))
    (home / "kafka").mkdir(parents=True)
    (home / "kafka" / "lib").symlink_to(broker.paths_for(suite).lib)
    broker.start(settings)
    try:
        yield settings
    finally:
        broker.stop(settings)


def isolated(settings: Settings) -> Settings:
    """Settings with a fresh topic prefix, app id and web port."""
    run = uuid.uuid4().hex[:8]
    return replace(
        settings,
        topic_prefix=f"test-{run}.",
        app_id=f"newswire-test-{run}",
        web_port=free_port(),
        partitions=2,
    )


def environment(settings: Settings) -> dict[str, str]:
    return dict(os.environ) | settings.as_environment()


def topic_records(settings: Settings, topic: str, idle: float = 3.0) -> list[dict[str, Any]]:
    """Every record value of ``topic`` from the beginning, read until ``idle`` seconds pass."""
    values: list[dict[str, Any]] = []

    def keep(value: bytes | None) -> bool:
        values.append(orjson.loads(value or b"{}"))
        return True

    asyncio.run(read_topic(settings, topic, keep, from_beginning=True, idle_timeout=idle))
    return values


def wait_for(check: Any, timeout: float = 60.0) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(1)


@dataclass
class WorkerProcess:
    settings: Settings
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.settings.web_url + path, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> int:
        """The status of an HTTP request to the worker (with a bearer token if given)."""
        request = urllib.request.Request(
            self.settings.web_url + path, data=body, method=method, headers=headers or {}
        )
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if self.get("/ready")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        pytest.fail(f"worker not ready in {timeout}s: {self.log.read_text()[-3000:]}")

    def collect(self, items: list[RawItem], timeout: float = 60.0) -> dict[str, Outcome]:
        report, outcomes = asyncio.run(send_and_collect(self.settings, items, timeout))
        assert report.sent == len(items), report.failures
        return outcomes

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start_worker(
    settings: Settings, log: Path, extra_env: dict[str, str] | None = None
) -> WorkerProcess:
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "agents.cli", "worker"],
            cwd=ROOT,
            env=environment(settings) | (extra_env or {}),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(settings, process, log)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()  # a worker that never got ready must not outlive the test
        raise
    return worker


@pytest.fixture(scope="module")
def worker(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    home = tmp_path_factory.mktemp("worker")
    running = start_worker(replace(isolated(kafka), home=home), home / "worker.log")
    yield running
    running.stop()


def nested(depth: int) -> str:
    """JSON text nested ``depth`` deep (deeper than orjson writes)."""
    return '{"x": ' * depth + '"deep"' + "}" * depth


def produce(settings: Settings, records: list[tuple[bytes, bytes | None]]) -> None:
    """Write ``(key, value)`` records straight to ``wire.raw``, as any producer could."""

    async def send() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap, acks="all", max_request_size=16 * 1024 * 1024
        )
        await producer.start()
        try:
            topic = TopicNames.for_settings(settings).raw
            for key, value in records:
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()

    asyncio.run(send())


def read_events(worker: WorkerProcess, seconds: float) -> str:
    """What ``GET /events`` sends (no token) over ``seconds``."""
    chunks = []
    deadline = time.monotonic() + seconds
    with urllib.request.urlopen(worker.settings.web_url + "/events", timeout=10) as stream:
        while time.monotonic() < deadline:
            line = stream.readline()
            if not line:
                break
            chunks.append(line.decode())
    return "".join(chunks)
