"""The main job (``newswire demo``) and the broker commands, as a user runs them."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from agents.kafka import broker
from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames, ensure_topics
from pipeline.config import Settings
from tests.conftest import ROOT, SEED, SEED_HEADLINE, run_newswire
from tests.integration.conftest import environment, free_port, isolated

pytestmark = pytest.mark.kafka


def test_demo_prints_the_sample_stories_and_stops_cleanly(kafka: Settings, tmp_path: Path) -> None:
    """Twice in a row, as a newcomer runs it: each run prints new stories (fresh items, a
    namespace of its own) and the redelivered sample as one duplicate line."""
    settings = replace(isolated(kafka), home=tmp_path)
    outputs = []
    for _ in range(2):
        result = run_newswire("demo", "--once", env=environment(settings), timeout=300)
        output = result.stdout.decode()
        assert result.returncode == 0, output + result.stderr.decode()
        assert "Escape room fire kills five teen girls in Koszalin, Poland" in output
        assert "1 duplicates, 0 rejected" in output
        (duplicate,) = [line for line in output.splitlines() if "repeats" in line]
        assert duplicate.endswith(": not published again")
        if SEED.exists():
            assert SEED_HEADLINE in output
            assert "ingested 6 items: 5 stories published" in output
        assert f"dashboard: {settings.web_url}/" in output
        outputs.append(output)
    first, second = ({line for line in out.splitlines() if '"itemId"' in line} for out in outputs)
    assert len(first) == len(second) >= 4 and first.isdisjoint(second)  # new work, no reprints
    mine = f"{settings.topic_prefix}demo-"
    runs = {
        name.split(".")[1] for name in asyncio.run(topic_names(settings)) if name.startswith(mine)
    }
    assert len(runs) == 1  # the second run deleted the first one's topics


async def topic_names(settings: Settings) -> list[str]:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()


def test_kafka_status_reports_the_running_broker(kafka: Settings) -> None:
    result = run_newswire("kafka", "status", env=environment(kafka))
    assert result.returncode == 0
    assert kafka.bootstrap in result.stdout.decode()


def test_kafka_up_is_idempotent_and_down_leaves_no_process(tmp_path: Path) -> None:
    """A second broker on other ports, so the shared one stays up for the other tests."""
    settings = Settings.load(
        {}, home=tmp_path, kafka_port=free_port(), kafka_controller_port=free_port()
    )
    env = environment(settings)

    def newswire(*args: str) -> subprocess.CompletedProcess[bytes]:
        return run_newswire(*args, env=env)

    up = newswire("kafka", "up")
    assert up.returncode == 0, up.stderr
    pid = broker.read_pid(broker.paths_for(settings))
    assert pid is not None
    assert b"already running" in newswire("kafka", "up").stdout
    assert (tmp_path / "kafka" / "data" / "meta.properties").exists()
    down = newswire("kafka", "down")
    assert down.returncode == 0 and f"kafka stopped (pid {pid})".encode() in down.stdout
    assert broker.read_pid(broker.paths_for(settings)) is None
    deadline = time.monotonic() + 10  # a dead child lingers until init reaps it
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists()
    status = newswire("kafka", "status")
    assert (status.returncode, status.stdout) == (1, b"kafka is not running\n")


def test_a_dedup_topic_with_the_wrong_partition_count_stops_the_worker_with_a_reason(
    kafka: Settings,
) -> None:
    settings = isolated(kafka)
    cleaned = TopicNames.for_settings(settings).cleaned
    asyncio.run(ensure_topics(settings, {cleaned: (3, {})}))
    result = run_newswire("worker", env=environment(settings), timeout=120)
    assert result.returncode == 1
    assert result.stderr.decode() == (
        f"newswire: topic {cleaned} has 3 partitions, Newswire needs 1: delete it "
        "(it is internal) or choose another NEWSWIRE_TOPIC_PREFIX\n"
    )


def test_ctrl_c_stops_the_demo_and_its_worker(kafka: Settings, tmp_path: Path) -> None:
    settings = replace(isolated(kafka), home=tmp_path)
    demo = subprocess.Popen(
        [sys.executable, "-m", "agents.cli", "demo"],
        env=environment(settings),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    worker_pid = None
    for line in demo.stdout:
        if match := re.match(r"worker started \(pid (\d+)", line):
            worker_pid = int(match.group(1))
        if line.startswith("press Ctrl-C"):
            break
    assert worker_pid is not None
    demo.send_signal(signal.SIGINT)
    assert demo.wait(timeout=60) == 0
    deadline = time.monotonic() + 10  # a dead child lingers until init reaps it
    while Path(f"/proc/{worker_pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{worker_pid}").exists()
