"""What subscribers get: the latest version per story, and saved subscriptions over HTTP on
the default topology (every story on the main topics and on each subscription it matches)."""

from __future__ import annotations

import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import orjson
import pytest

from agents.kafka.topics import TopicNames, subscription_topic
from pipeline.config import Settings
from tests.conftest import raw_item
from tests.integration.conftest import (
    WorkerProcess,
    isolated,
    start_worker,
    topic_records,
    wait_for,
)

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def subscriber_worker(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """A worker on the default topology, as a user starts it."""
    home = tmp_path_factory.mktemp("subscribers")
    settings = replace(isolated(kafka), home=home, partitions=Settings().partitions)
    running = start_worker(settings, home / "worker.log")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def compacting_worker(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    home = tmp_path_factory.mktemp("compacting")
    # One partition, so that the record sent after the versions rolls their segment.
    settings = replace(isolated(kafka), home=home, latest_segment_ms=1000, partitions=1)
    running = start_worker(settings, home / "worker.log")
    yield running
    running.stop()


def request(worker: WorkerProcess, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = orjson.dumps(body) if body is not None else None
    call = urllib.request.Request(worker.settings.web_url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status, orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read())


def story_text(title: str, *lines: str) -> str:
    return title + "\n\n" + "\n\n".join(lines)


def test_stories_latest_keeps_only_the_newest_version(compacting_worker: WorkerProcess) -> None:
    guid = uuid.uuid4().hex
    versions = [
        raw_item(
            story_text(
                f"Harbour bridge closes {guid}",
                f"Repairs begin, version {n}.",
                "Traffic is diverted.",
            ),
            source="wire",
            guid=guid,
            version=str(n),
        )
        for n in (1, 2, 3)
    ]
    for version in versions:
        assert compacting_worker.collect([version])[version.id].status == "published"
    time.sleep(1.5)  # past segment.ms, so the next record rolls the segment for the cleaner
    other = raw_item(story_text(f"Unrelated story {guid}", "Something else happened."))
    compacting_worker.collect([other])
    latest = TopicNames.for_settings(compacting_worker.settings).latest

    def only_newest() -> bool:
        mine = [
            s
            for s in topic_records(compacting_worker.settings, latest)
            if s["newswire"]["itemId"] in {v.id for v in versions}
        ]
        return [s["version"] for s in mine] == ["3"]

    wait_for(only_newest, timeout=90)


def test_a_bad_subscription_is_refused_with_the_reason(subscriber_worker: WorkerProcess) -> None:
    status, body = request(
        subscriber_worker, "POST", "/subscriptions", {"name": "x", "filter": {"colour": ["red"]}}
    )
    assert status == 400 and "unknown filter fields: colour" in body["error"]


def test_saved_subscriptions_get_every_story_the_main_topics_get(
    subscriber_worker: WorkerProcess,
) -> None:
    settings = subscriber_worker.settings
    marker = uuid.uuid4().hex[:8]
    filters = {
        f"by-people-{marker}": {"places": ["BY"], "entityTypes": ["person"]},
        f"by-all-{marker}": {"places": ["BY"]},
    }
    for name, filter_ in filters.items():
        assert (
            request(subscriber_worker, "POST", "/subscriptions", {"name": name, "filter": filter_})[
                0
            ]
            == 201
        )
    for name in filters:
        wait_for(
            lambda name=name: request(subscriber_worker, "GET", f"/subscriptions/{name}")[0] == 200
        )
    time.sleep(5)  # as the user did: the stories come a little after the subscriptions
    items = [
        raw_item(
            story_text(
                f"Belarus opposition leader freed {marker}",
                "Sviatlana Tsikhanouskaya said in Minsk, Belarus, on Monday that "
                "Ales Bialiatski had been released.",
            )
        ),
        raw_item(
            story_text(
                f"Lukashenko meets Chinese envoy {marker}",
                "Alexander Lukashenko received Wang Yi in Minsk, the capital of Belarus, "
                "on Tuesday to discuss trade.",
            )
        ),
    ]
    outcomes = subscriber_worker.collect(items)
    assert {item.id: outcomes[item.id].status for item in items} == {
        item.id: "published" for item in items
    }
    ids = {item.id for item in items}
    names = TopicNames.for_settings(settings)
    for topic in (names.structured, names.latest):
        on_topic = [s["newswire"]["itemId"] for s in topic_records(settings, topic)]
        assert sorted(i for i in on_topic if i in ids) == sorted(ids), topic
    for name in filters:
        topic = subscription_topic(settings, name)
        on_topic = [s["newswire"]["itemId"] for s in topic_records(settings, topic)]
        assert sorted(on_topic) == sorted(ids), name
    assert "exception was never retrieved" not in subscriber_worker.log.read_text()


def test_a_subscription_made_over_http_gets_matching_stories_and_survives_a_restart(
    subscriber_worker: WorkerProcess, tmp_path_factory: pytest.TempPathFactory
) -> None:
    name = f"desk-{uuid.uuid4().hex[:8]}"
    status, created = request(
        subscriber_worker, "POST", "/subscriptions", {"name": name, "filter": {"entities": ["MI6"]}}
    )
    assert status == 201 and created["topic"].endswith(f"subscriptions.{name}")
    wait_for(lambda: request(subscriber_worker, "GET", f"/subscriptions/{name}")[0] == 200)

    marker = uuid.uuid4().hex
    matching = raw_item(
        story_text(f"Spy agency recruits {marker}", "The head of MI6 spoke in Prague on Wednesday.")
    )
    other = raw_item(
        story_text(f"Storm hits coast {marker}", "A storm hit the coast of Florida on Wednesday.")
    )
    subscriber_worker.collect([matching, other])
    topic = subscription_topic(subscriber_worker.settings, name)
    wait_for(
        lambda: any(
            s["newswire"]["itemId"] == matching.id
            for s in topic_records(subscriber_worker.settings, topic)
        )
    )
    received = {s["newswire"]["itemId"] for s in topic_records(subscriber_worker.settings, topic)}
    assert received == {matching.id}

    subscriber_worker.stop()
    home = tmp_path_factory.mktemp("restarted")
    restarted = start_worker(replace(subscriber_worker.settings, home=home), home / "worker.log")
    try:
        status, listed = request(restarted, "GET", "/subscriptions")
        assert status == 200 and name in {entry["name"] for entry in listed}
        later = raw_item(
            story_text(
                f"MI6 chief speaks again {marker}", "MI6 said on Thursday it would hire more staff."
            )
        )
        restarted.collect([later])
        wait_for(
            lambda: (
                later.id
                in {s["newswire"]["itemId"] for s in topic_records(restarted.settings, topic)}
            )
        )
        assert request(restarted, "DELETE", f"/subscriptions/{name}")[0] == 202
        wait_for(lambda: request(restarted, "GET", f"/subscriptions/{name}")[0] == 404)
    finally:
        restarted.stop()
