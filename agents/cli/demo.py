"""``newswire demo``: the main job on a fresh machine, end to end over a real broker."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson
from aiokafka.admin import AIOKafkaAdminClient

from agents.kafka import broker
from agents.kafka.clients import Outcome, send_and_collect, unreachable
from agents.kafka.security import client_options
from agents.kafka.topics import ensure_topics
from pipeline.config import Settings
from pipeline.ingest import InputFailure, read_inputs
from pipeline.records import RawItem

SAMPLES = Path(__file__).resolve().parent / "samples"
SHARED_SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
DEMO_PREFIX = "demo-"
READY_TIMEOUT_S = 120.0
OUTCOME_TIMEOUT_S = 120.0


def sample_items() -> list[RawItem]:
    """The shipped samples, then the project's seed story where ``../shared`` is present."""
    folders = [str(SAMPLES)] + ([str(SHARED_SEEDS)] if SHARED_SEEDS.is_dir() else [])
    entries = read_inputs(folders, format="auto", source="demo")
    return [entry for entry in entries if not isinstance(entry, InputFailure)]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(url: str, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise broker.BrokerError(f"the worker exited (code {worker.returncode}); see {log}")
        if _answers(url):
            return
        time.sleep(0.5)
    raise broker.BrokerError(f"the worker was not ready within {READY_TIMEOUT_S:.0f}s; see {log}")


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def print_stories(items: list[RawItem], outcomes: dict[str, Outcome]) -> None:
    """Each item's story in input order; a duplicate as one line naming the story it repeats."""
    counts = {"published": 0, "duplicate": 0, "rejected": 0}
    for item in items:
        outcome = outcomes.get(item.id)
        if outcome is None:
            continue
        counts[outcome.status] += 1
        if outcome.status == "duplicate":
            print(f"# {item.id} repeats {outcome.value['duplicateOf']}: not published again")
        elif outcome.status == "rejected":
            print(f"# {item.id} rejected at {outcome.value['stage']}: {outcome.value['reason']}")
        else:
            print(orjson.dumps(outcome.value, option=orjson.OPT_INDENT_2).decode())
    print(
        f"ingested {len(outcomes)} items: {counts['published']} stories published, "
        f"{counts['duplicate']} duplicates, {counts['rejected']} rejected"
    )


def for_this_run(settings: Settings, started: datetime) -> Settings:
    """Each demo run is an installation of its own (topics and worker state under a prefix of
    the run), so every run shows the whole pipeline at work again, with new stories."""
    stamp = started.strftime("%Y%m%d-%H%M%S")
    return replace(settings, topic_prefix=f"{settings.topic_prefix}{DEMO_PREFIX}{stamp}.")


async def forget_earlier_runs(settings: Settings) -> list[str]:
    """Delete the topics and the worker state of earlier demo runs; returns the topics."""
    mine = f"{settings.topic_prefix}{DEMO_PREFIX}"
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=15000)
    await admin.start()
    try:
        earlier = [topic for topic in await admin.list_topics() if topic.startswith(mine)]
        if earlier:
            await admin.delete_topics(earlier)
    finally:
        await admin.close()
    for state in (settings.home / "worker").glob(f"{mine}*"):
        shutil.rmtree(state, ignore_errors=True)
    return earlier


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_demo(settings: Settings, once: bool) -> int:
    """Run the main job; Ctrl-C (or SIGTERM) stops the worker and any broker it started."""
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started_broker = False
    if settings.uses_local_broker and not broker.status(settings)[0]:
        print(broker.start(settings), flush=True)
        started_broker = True
    elif not broker.broker_answers(settings):
        raise unreachable(settings)
    worker: subprocess.Popen[bytes] | None = None
    try:
        if _answers(f"{settings.web_url}/health"):
            raise broker.BrokerError(
                f"{settings.web_url} is already in use (another worker?): "
                "stop it or set NEWSWIRE_WEB_PORT"
            )
        asyncio.run(forget_earlier_runs(settings))
        settings = for_this_run(settings, datetime.now(UTC))
        asyncio.run(ensure_topics(settings))
        log = settings.home / "demo-worker.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            worker = subprocess.Popen(
                [sys.executable, "-m", "agents.cli", "worker"],
                env=os.environ | settings.as_environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        print(f"worker started (pid {worker.pid}, log {log})", flush=True)
        wait_until_ready(f"{settings.web_url}/ready", worker, log)
        items = sample_items()
        report, outcomes = asyncio.run(send_and_collect(settings, items, OUTCOME_TIMEOUT_S))
        print_stories(items, outcomes)
        missing = len(items) - len(outcomes)
        if missing:
            print(f"{missing} items have no outcome yet; see {log}")
        print(f"dashboard: {settings.web_url}/ (metrics /metrics, ready /ready)", flush=True)
        if not once:
            print("press Ctrl-C to stop", flush=True)
            worker.wait()
        return 0 if not missing and not report.failures else 1
    except KeyboardInterrupt:
        return 0
    finally:
        if worker is not None:
            stop_worker(worker)
        if started_broker:
            print(broker.stop(settings), flush=True)
