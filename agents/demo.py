"""``newswire demo``: the main job on a fresh machine, end to end over a real broker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson

from agents import localkafka
from agents.clients import send_and_collect, unreachable
from agents.topics import ensure_topics
from pipeline.config import Settings
from pipeline.ingest import InputFailure, read_inputs
from pipeline.records import RawItem

CHECKOUT = Path(__file__).resolve().parents[1]
SAMPLES = CHECKOUT / "samples"
SHARED_SEEDS = CHECKOUT.parent / "shared" / "seeds"
READY_TIMEOUT_S = 120.0
OUTCOME_TIMEOUT_S = 120.0


def sample_items() -> list[RawItem]:
    """The shipped samples, then the project's seed story where ``../shared`` is present."""
    folders = [str(SAMPLES)] + ([str(SHARED_SEEDS)] if SHARED_SEEDS.is_dir() else [])
    entries = read_inputs(folders, format="auto", source="demo")
    return [entry for entry in entries if not isinstance(entry, InputFailure)]


def wait_until_ready(url: str, worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise localkafka.BrokerError(f"the worker exited (code {worker.returncode}); see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise localkafka.BrokerError(
        f"the worker was not ready within {READY_TIMEOUT_S:.0f}s; see {log}"
    )


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def run_demo(settings: Settings, once: bool) -> int:
    started_broker = False
    if settings.uses_local_broker and not localkafka.status(settings)[0]:
        print(localkafka.start(settings), flush=True)
        started_broker = True
    elif not localkafka.broker_answers(settings.bootstrap):
        raise unreachable(settings)
    worker: subprocess.Popen[bytes] | None = None
    try:
        asyncio.run(ensure_topics(settings))
        log = settings.home / "demo-worker.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            worker = subprocess.Popen(
                [sys.executable, "-m", "agents.cli", "worker", "--bootstrap", settings.bootstrap],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        print(f"worker started (pid {worker.pid}, log {log})", flush=True)
        wait_until_ready(f"{settings.web_url}/ready", worker, log)
        items = sample_items()
        report, outcomes = asyncio.run(send_and_collect(settings, items, OUTCOME_TIMEOUT_S))
        counts = {"published": 0, "duplicate": 0, "rejected": 0}
        for item in items:
            outcome = outcomes.get(item.id)
            if outcome is None:
                continue
            counts[outcome.status] += 1
            if outcome.status == "published":
                print(orjson.dumps(outcome.value, option=orjson.OPT_INDENT_2).decode())
        missing = len(items) - len(outcomes)
        print(
            f"ingested {report.sent} items: {counts['published']} stories published, "
            f"{counts['duplicate']} duplicates, {counts['rejected']} rejected"
            + (f", {missing} without an outcome yet" if missing else "")
        )
        print(f"worker web server: {settings.web_url}/ (health /health, ready /ready)", flush=True)
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
            print(localkafka.stop(settings), flush=True)
