"""Wire items through the real broker and worker: stories, duplicates and dead letters."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import urllib.request
import uuid
from dataclasses import replace
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from agents.kafka.clients import group_caught_up
from agents.kafka.topics import TopicNames
from pipeline.chain import item_id_for
from pipeline.config import Settings
from pipeline.validation import validation_error
from tests.conftest import SAMPLES, SEED_HEADLINE, raw_item, run_newswire
from tests.integration.conftest import (
    WorkerProcess,
    environment,
    isolated,
    start_worker,
    topic_records,
    wait_for,
)

pytestmark = pytest.mark.kafka


def unique_story(title: str) -> str:
    marker = uuid.uuid4().hex
    return f"{title} {marker}\n\nThe first paragraph about {marker}.\n\nA second paragraph."


def test_seed_becomes_one_story_and_its_copy_a_duplicate(
    worker: WorkerProcess, seed_text: str
) -> None:
    first = raw_item(seed_text, source="upi")
    again = raw_item(seed_text, source="upi")
    outcomes = worker.collect([first])
    outcomes |= worker.collect([again])
    assert outcomes[first.id].status == "published"
    story = outcomes[first.id].value
    assert validation_error("story", story) is None
    assert story["headlines"][0]["value"] == SEED_HEADLINE  # type: ignore[index]
    body = story["bodies"][0]["value"]  # type: ignore[index]
    assert "Advertisement" not in body and "Latest Headlines" not in body
    assert outcomes[again.id].status == "duplicate"
    assert outcomes[again.id].value["duplicateOf"] == story["uri"]
    people = {entry["name"] for entry in story["people"]}  # type: ignore[union-attr]
    assert {"Richard Moore", "Vladimir Putin"} <= people
    assert story["newswire"]["enrichment"]["status"] == "enriched"  # type: ignore[index]
    structured = TopicNames.for_settings(worker.settings).structured
    headlines = [s["headlines"][0]["value"] for s in topic_records(worker.settings, structured)]
    assert headlines.count(SEED_HEADLINE) == 1


def test_bad_records_become_dead_letters_and_the_worker_goes_on(worker: WorkerProcess) -> None:
    settings = worker.settings
    garbage = b"not json " + uuid.uuid4().hex.encode()

    async def produce_garbage() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(TopicNames.for_settings(settings).raw, garbage, key=b"x")
        finally:
            await producer.stop()

    asyncio.run(produce_garbage())
    empty = raw_item("")
    good = raw_item(unique_story("Worker still running"))
    outcomes = worker.collect([empty, good])
    assert outcomes[empty.id].status == "rejected"
    assert outcomes[empty.id].value["reason"] == "the document is empty"
    assert outcomes[good.id].status == "published"

    letters = topic_records(settings, TopicNames.for_settings(settings).rejected)
    (letter,) = [item for item in letters if item["itemId"] == item_id_for(garbage)]
    assert letter["stage"] == "decode"
    assert base64.b64decode(str(letter["original"])) == garbage
    assert worker.process.poll() is None


def test_http_ingest_answers_202_and_the_story_is_published(worker: WorkerProcess) -> None:
    text = unique_story("Posted over HTTP")
    request = urllib.request.Request(
        worker.settings.web_url + "/ingest?source=web", data=text.encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202
        answer = orjson.loads(response.read())
    structured = TopicNames.for_settings(worker.settings).structured
    found: list[dict[str, Any]] = []

    def published() -> bool:
        found[:] = [
            story
            for story in topic_records(worker.settings, structured)
            if story["newswire"]["itemId"] == answer["id"]
        ]
        return bool(found)

    wait_for(published)
    assert found[0]["headlines"][0]["value"].startswith("Posted over HTTP")
    assert found[0]["newswire"]["source"] == "web"  # type: ignore[index]


def test_http_ingest_refuses_an_empty_body(worker: WorkerProcess) -> None:
    request = urllib.request.Request(worker.settings.web_url + "/ingest", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 400


def test_health_and_ready(worker: WorkerProcess) -> None:
    assert worker.get("/health") == (200, b'{"status":"ok"}')
    status, body = worker.get("/ready")
    assert status == 200
    assert orjson.loads(body)["partitionsAssigned"] > 0


def test_cli_ingest_and_tail(worker: WorkerProcess) -> None:
    env = environment(worker.settings)
    sample = SAMPLES / "wikinews-pelosi-speaker.txt"
    ingest = run_newswire("ingest", str(sample), env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert ingest.stdout == b"sent 1, failed 0\n"
    structured = TopicNames.for_settings(worker.settings).structured
    tail = run_newswire(
        "tail", structured, "--from-beginning", "--max", "50", "--timeout", "15", env=env
    )
    assert tail.returncode == 0, tail.stderr
    headlines = [orjson.loads(line)["headlines"][0]["value"] for line in tail.stdout.splitlines()]
    assert "Nancy Pelosi again elected Speaker as 116th U.S. Congress sworn in" in headlines


def test_topics_have_their_partitions_and_configs(worker: WorkerProcess) -> None:
    settings = worker.settings
    names = TopicNames.for_settings(settings)

    async def describe() -> tuple[dict[str, int], dict[str, str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap)
        await admin.start()
        try:
            topics = await admin.describe_topics(names.all())
            resource = ConfigResource(ConfigResourceType.TOPIC, names.latest)
            (configs,) = await admin.describe_configs([resource])
        finally:
            await admin.close()
        partitions = {topic["topic"]: len(topic["partitions"]) for topic in topics}
        latest = {entry[0]: entry[1] for entry in configs.resources[0][4]}
        return partitions, latest

    partitions, latest = asyncio.run(describe())
    expected = {name: settings.partitions for name in names.all()} | {
        names.cleaned: 1,
        names.urgent_cleaned: 1,
        names.subscription_commands: 1,
        names.trends: 1,
    }
    assert partitions == expected
    assert latest["cleanup.policy"] == "compact"


def test_dedup_state_survives_a_killed_worker(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory, seed_text: str
) -> None:
    """SIGKILL, then a new worker with an empty state folder: it restores the stories table
    from its changelog topic (and the lookup keys and bands from it) and still knows the
    story, as an exact copy and as a near one."""
    settings = isolated(kafka)
    first_home = tmp_path_factory.mktemp("first")
    worker = start_worker(replace(settings, home=first_home), first_home / "worker.log")
    try:
        original = raw_item(seed_text, source="upi")
        assert worker.collect([original])[original.id].status == "published"
        # Committed, so that the new worker learns the story from the tables, not a replay.
        wait_for(lambda: asyncio.run(group_caught_up(settings)), timeout=30)
    finally:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()
    second_home = tmp_path_factory.mktemp("second")
    restarted = start_worker(replace(settings, home=second_home), second_home / "worker.log")
    try:
        again = raw_item(seed_text, source="other-feed")
        near = raw_item(seed_text + "\n\nOur correspondent contributed to this report.", source="b")
        outcomes = restarted.collect([again, near])
        assert outcomes[again.id].status == "duplicate"
        assert outcomes[again.id].value["reason"] == "exact"
        assert outcomes[near.id].status == "duplicate"
        assert outcomes[near.id].value["reason"] == "near"
    finally:
        restarted.stop()


def test_worker_logs_are_json_lines_with_the_item_and_stage(worker: WorkerProcess) -> None:
    empty = raw_item("")
    good = raw_item(unique_story("Logged story"))
    worker.collect([empty, good])
    wait_for(lambda: good.id in worker.log.read_text())
    events = [orjson.loads(line) for line in worker.log.read_text().splitlines() if line]
    about = {event.get("itemId"): event for event in events if event.get("itemId")}
    assert about[empty.id]["message"] == "rejected"
    assert (about[empty.id]["stage"], about[empty.id]["level"]) == ("clean", "info")
    assert (about[good.id]["message"], about[good.id]["stage"]) == ("published", "publish")
    assert not any("Logged story" in line for line in worker.log.read_text().splitlines())
