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

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from agents.kafka import broker
from agents.kafka.security import client_options
from agents.kafka.topics import TopicNames, ensure_topics
from pipeline.config import Settings
from tests.chaos.harness import (
    Plan,
    SubscriptionSpan,
    Tally,
    account,
    drain,
    never_retrieved,
    plan_items,
    produce,
    trace,
)
from tests.chaos.pushes import SECRET, Flaky, tally_pushes, wait_for_pushes
from tests.integration.conftest import WorkerProcess, free_port, isolated, start_worker
from tests.receiver import receiving

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
    """No item lost, doubled or with the wrong outcome, no story missing from a subscription,
    no send failure unseen; else where the first few went."""
    assert not tally.lost, trace(settings, plan, tally.lost[:5], logs)
    assert not tally.doubled, tally.doubled[:5]
    assert not tally.wrong, tally.wrong[:5]
    assert not tally.subscription_missing, tally.subscription_missing[:5]
    assert not never_retrieved(logs), never_retrieved(logs)[:3]
    assert tally.fast_lane or not plan.mix.get("flash"), "the triage copied none of the flashes"


def subscribe(
    worker: WorkerProcess, name: str, filter_: dict[str, object], push: str | None = None
) -> SubscriptionSpan:
    pushed = {"push": {"url": push, "secret": SECRET}} if push else {}
    body = orjson.dumps({"name": name, "filter": filter_, **pushed})
    assert worker.call("POST", "/subscriptions", body) == 201
    return SubscriptionSpan(name, filter_, alive_from=time.time())


def unsubscribe(worker: WorkerProcess, span: SubscriptionSpan) -> None:
    span.alive_until = time.time()
    assert worker.call("DELETE", f"/subscriptions/{span.name}") == 202


def settings_for(kafka: Settings, home: Path) -> Settings:
    # Enrichment off: the guarantee is the same with it, and the run is about delivery.
    return replace(
        isolated(kafka), home=home, enrich=False, partitions=4, push_allow_hosts="127.0.0.1"
    )


def test_kills_and_a_broker_restart_lose_nothing_and_double_nothing(
    kafka: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a push subscription of every story to a flaky receiver: kills land while it
    delivers, and it must still take every record, signed, each story in order."""
    settings = settings_for(kafka, tmp_path)
    rng = random.Random(SEED)
    plan = plan_items(ITEMS, SEED)
    size = -(-len(plan.records) // (KILLS + 1))
    waves = [plan.records[i : i + size] for i in range(0, len(plan.records), size)]
    log = tmp_path / "worker.log"
    flaky = Flaky(SEED)
    with receiving(free_port(), flaky, flaky.delay) as receiver:
        worker = start_worker(settings, log)
        kills = restarts = broker_restarts = 0
        spans = [
            subscribe(worker, "early", {"sources": ["agency-1"]}),
            subscribe(worker, "pushed", {}, push=receiver.url),
        ]
        try:
            for number, wave in enumerate(waves[:-1]):
                if number == 1:
                    spans.append(subscribe(worker, "late", {"sources": ["agency-2"]}))
                if number == 3:
                    unsubscribe(worker, spans[0])
                asyncio.run(produce(settings, wave))
                time.sleep(rng.uniform(0.2, 2.5))
                os.killpg(worker.process.pid, signal.SIGKILL)
                worker.process.wait()
                kills += 1
                if number == 2 and settings.uses_local_broker:
                    broker.stop(settings)
                    broker.start(settings)
                    broker_restarts += 1
                worker = start_worker(settings, log)
                restarts += 1
            asyncio.run(produce(settings, waves[-1]))
            drain(settings, timeout=max(300.0, ITEMS / 20))
            wait_for_pushes(settings, "pushed", receiver, timeout=max(120.0, ITEMS / 20))
            assert worker.process.poll() is None, "the worker died on its own"
        finally:
            worker.stop()
        pushes = tally_pushes(settings, "pushed", receiver)
    tally = account(settings, plan, spans)
    report(tally.line(kills, restarts, broker_restarts) + " " + pushes.line(), capsys)
    check(tally, settings, plan, [log])
    assert not pushes.missing, pushes.missing[:5]
    assert not pushes.foreign, pushes.foreign[:5]
    assert not pushes.out_of_order, pushes.out_of_order[:5]
    assert pushes.unsigned == 0 and pushes.refused > 0 and pushes.records >= len(plan.expected) // 2
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
    spans = [subscribe(first, "all", {})]
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
    tally = account(settings, plan, spans)
    report("two workers, one killed: " + tally.line(1, 0, 0), capsys)
    check(tally, settings, plan, [tmp_path / "one.log", tmp_path / "two.log"])


def test_a_send_that_fails_holds_its_item_back_until_it_is_published_once(
    kafka: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With stories.structured deleted under the worker, publishing fails: the worker says
    so on /ready and commits nothing past it; once the topic is back, each item ends once."""
    settings = replace(settings_for(kafka, tmp_path), send_timeout_seconds=2)
    structured = TopicNames.for_settings(settings).structured
    plan = plan_items(ITEMS // 2, SEED + 2)
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log)
    spans = [subscribe(worker, "desk", {"sources": ["agency-0"]})]
    reasons: list[str] = []
    try:
        asyncio.run(delete_topic(settings, structured))
        asyncio.run(produce(settings, plan.records))
        deadline = time.monotonic() + 60
        while not reasons and time.monotonic() < deadline:
            status, body = worker.get("/ready")
            if status == 503 and structured in orjson.loads(body).get("reason", ""):
                reasons.append(orjson.loads(body)["reason"])
            time.sleep(0.2)
        asyncio.run(ensure_topics(settings))
        drain(settings, timeout=max(300.0, ITEMS / 20))
        assert worker.process.poll() is None, "the worker died"
        assert worker.get("/ready")[0] == 200
    finally:
        worker.stop()
    tally = account(settings, plan, spans)
    report("stories.structured deleted under the worker: " + tally.line(0, 0, 0), capsys)
    check(tally, settings, plan, [log])
    assert reasons, "the worker never said that publishing failed"
    assert "failed" in reasons[0]


async def delete_topic(settings: Settings, topic: str) -> None:
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
