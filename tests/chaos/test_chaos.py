"""Never lose a story: SIGKILL the worker at random moments, restart the broker once, then
account for every item. ``NEWSWIRE_CHAOS_ITEMS`` sets the size (CI: a few hundred; ``make
chaos`` runs 50,000)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from dataclasses import replace
from pathlib import Path

import pytest

from agents import localkafka
from pipeline.config import Settings
from tests.chaos.harness import Plan, Tally, account, drain, plan_items, produce, trace
from tests.integration.conftest import WorkerProcess, isolated, start_worker

pytestmark = pytest.mark.kafka

ITEMS = int(os.environ.get("NEWSWIRE_CHAOS_ITEMS", "400"))
KILLS = 5
SEED = int(os.environ.get("NEWSWIRE_CHAOS_SEED", "20261129"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def report(line: str, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\n{line}")
    ARTIFACTS.mkdir(exist_ok=True)
    with (ARTIFACTS / "chaos.txt").open("a") as out:
        out.write(line + "\n")


def check(tally: Tally, settings: Settings, plan: Plan, logs: list[Path]) -> None:
    """No item lost, doubled or with the wrong outcome; else where the first few went."""
    assert not tally.lost, trace(settings, plan, tally.lost[:5], logs)
    assert not tally.doubled, tally.doubled[:5]
    assert not tally.wrong, tally.wrong[:5]


def settings_for(kafka: Settings, home: Path) -> Settings:
    # Enrichment off: the guarantee is the same with it, and the run is about delivery.
    return replace(isolated(kafka), home=home, enrich=False, partitions=4)


def test_kills_and_a_broker_restart_lose_nothing_and_double_nothing(
    kafka: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = settings_for(kafka, tmp_path)
    rng = random.Random(SEED)
    plan = plan_items(ITEMS, SEED)
    size = -(-len(plan.records) // (KILLS + 1))
    waves = [plan.records[i : i + size] for i in range(0, len(plan.records), size)]
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    kills = restarts = broker_restarts = 0
    try:
        for number, wave in enumerate(waves[:-1]):
            asyncio.run(produce(settings, wave))
            time.sleep(rng.uniform(0.2, 2.5))
            os.killpg(worker.process.pid, signal.SIGKILL)
            worker.process.wait()
            kills += 1
            if number == 2 and settings.uses_local_broker:
                localkafka.stop(settings)
                localkafka.start(settings)
                broker_restarts += 1
            worker = start_worker(settings, log)
            restarts += 1
        asyncio.run(produce(settings, waves[-1]))
        drain(settings, timeout=max(300.0, ITEMS / 20))
        assert worker.process.poll() is None, "the worker died on its own"
    finally:
        worker.stop()
    tally = account(settings, plan)
    report(tally.line(kills, restarts, broker_restarts), capsys)
    check(tally, settings, plan, [log])
    assert kills == KILLS


def test_two_workers_one_killed_mid_stream(
    kafka: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its partitions move to the other worker, which finishes the job."""
    settings = settings_for(kafka, tmp_path / "one")
    other = replace(settings, home=tmp_path / "two", web_port=isolated(kafka).web_port)
    plan = plan_items(ITEMS, SEED + 1)
    half = len(plan.records) // 2
    first = start_worker(settings, tmp_path / "one.log")
    second: WorkerProcess | None = None
    try:
        second = start_worker(other, tmp_path / "two.log")
        asyncio.run(produce(settings, plan.records[:half]))
        time.sleep(1.0)
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait()
        asyncio.run(produce(settings, plan.records[half:]))
        drain(settings, timeout=max(300.0, ITEMS / 20))
        assert second.process.poll() is None, "the surviving worker died"
    finally:
        first.stop()
        if second is not None:
            second.stop()
    tally = account(settings, plan)
    report("two workers, one killed: " + tally.line(1, 0, 0), capsys)
    check(tally, settings, plan, [tmp_path / "one.log", tmp_path / "two.log"])
