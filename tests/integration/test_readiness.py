"""GET /ready: not ready while the broker is unreachable, ready once it answers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from pipeline.config import Settings
from tests.conftest import ROOT
from tests.integration.conftest import WorkerProcess, environment, free_port, isolated, wait_for

pytestmark = pytest.mark.kafka


class Forwarder:
    """A TCP port that starts forwarding to the broker only when ``open`` is called: a broker
    that becomes reachable while the worker waits."""

    def __init__(self, port: int, target: str) -> None:
        self.port = port
        self.host, target_port = target.split(",")[0].rsplit(":", 1)
        self.target_port = int(target_port)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            self.host, self.target_port
        )
        await asyncio.gather(
            self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer)
        )

    def open(self) -> None:
        start = asyncio.start_server(self._serve, "127.0.0.1", self.port)
        asyncio.run_coroutine_threadsafe(start, self.loop).result(timeout=10)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture
def late_broker(kafka: Settings) -> Iterator[Forwarder]:
    forwarder = Forwarder(free_port(), kafka.bootstrap)
    yield forwarder
    forwarder.close()


def test_not_ready_until_the_broker_answers(
    kafka: Settings, late_broker: Forwarder, tmp_path: Path
) -> None:
    settings = replace(
        isolated(kafka),
        kafka_bootstrap=f"127.0.0.1:{late_broker.port}",
        home=tmp_path,
        enrich=False,
    )
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "agents.cli", "worker"],
            cwd=ROOT,
            env=environment(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(settings, process, log)
    try:

        def answers() -> bool:
            try:
                return worker.get("/health")[0] == 200
            except OSError:
                return False

        wait_for(answers, timeout=60)
        status, body = worker.get("/ready")
        assert status == 503
        assert orjson.loads(body)["ready"] is False
        assert "waiting for the Kafka broker" in orjson.loads(body)["reason"]
        assert process.poll() is None

        late_broker.open()
        worker.wait_ready()
        status, body = worker.get("/ready")
        assert status == 200
        assert orjson.loads(body)["partitionsAssigned"] > 0
    finally:
        worker.stop()


def run_worker(settings: Settings) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "agents.cli", "worker"],
        cwd=ROOT,
        env=environment(settings),
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_a_worker_gives_up_after_the_configured_wait(tmp_path: Path) -> None:
    settings = Settings.load(
        {},
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        broker_wait_seconds=0,
        home=tmp_path,
        web_port=free_port(),
    )
    result = run_worker(settings)
    assert result.returncode == 1
    last = result.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("newswire: no Kafka broker answers at")
    assert b"Traceback" not in result.stderr


def test_a_worker_refuses_open_write_endpoints_beyond_loopback(tmp_path: Path) -> None:
    """Without a token it does not listen on 0.0.0.0, unless the operator says so."""
    settings = Settings.load(
        {},
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        broker_wait_seconds=0,
        home=tmp_path,
        web_host="0.0.0.0",
        web_port=free_port(),
    )
    refused = run_worker(settings)
    assert refused.returncode == 1
    assert refused.stderr.decode().strip().splitlines() == [
        "newswire: refusing to listen on 0.0.0.0 with open write endpoints: set "
        "NEWSWIRE_API_TOKEN (or NEWSWIRE_ALLOW_OPEN_API=1 to mean it)"
    ]
    meant = run_worker(replace(settings, allow_open_api=True))
    last = meant.stderr.decode().strip().splitlines()[-1]
    assert last.startswith("newswire: no Kafka broker answers at")
