"""Delivery where subscribers are: HTTP push to a real receiver this test starts (signed,
retried through its outage, in order per story, a refused request on the failures topic),
the pull API read to the end by its cursor, and push URLs checked when saved."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from agents.kafka.topics import TopicNames
from pipeline.config import Settings
from tests.conftest import raw_item
from tests.integration.conftest import (
    WorkerProcess,
    environment,
    free_port,
    isolated,
    read_events,
    start_worker,
    topic_records,
    wait_for,
)
from tests.receiver import Receiver, receiving

pytestmark = pytest.mark.kafka

SECRET = "a-shared-secret-of-the-desk"
OUTAGE_S = 8.0


class Outage:
    """A CMS's webhook: 503 for ``OUTAGE_S`` seconds from the first request, then 200; 400
    for a body holding "REFUSE-ME"."""

    def __init__(self) -> None:
        self.first: float | None = None

    def __call__(self, body: bytes) -> int:
        self.first = self.first or time.monotonic()
        if time.monotonic() - self.first < OUTAGE_S:
            return 503
        return 400 if b"REFUSE-ME" in body else 200


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with receiving(free_port(), Outage()) as found:
        yield found


@pytest.fixture()
def pushing(kafka: Settings, tmp_path: Path) -> Iterator[WorkerProcess]:
    settings = replace(isolated(kafka), home=tmp_path, enrich=False, push_allow_hosts="127.0.0.1")
    worker = start_worker(settings, tmp_path / "worker.log")
    yield worker
    worker.stop()


def subscribe(worker: WorkerProcess, body: dict[str, Any]) -> int:
    return worker.call("POST", "/subscriptions", orjson.dumps(body))


def test_every_version_and_kill_is_pushed_signed_in_order_through_an_outage(
    pushing: WorkerProcess, receiver: Receiver
) -> None:
    marker = uuid.uuid4().hex[:8]
    name = f"cms-{marker}"
    push = {"url": receiver.url, "secret": SECRET}
    assert subscribe(pushing, {"name": name, "filter": {"keywords": [marker]}, "push": push}) == 201
    wait_for(lambda: pushing.get(f"/subscriptions/{name}")[0] == 200, timeout=30)
    listed = pushing.get(f"/subscriptions/{name}")[1] + pushing.get("/subscriptions")[1]
    assert SECRET.encode() not in listed  # the secret is never shown
    time.sleep(3)
    guid = uuid.uuid4().hex
    first = raw_item(f"Port strike {marker}\n\nDockers walked out.", guid=guid, version="1")
    second = raw_item(
        f"Port strike {marker}\n\nDockers walked out.\n\nShips wait.", guid=guid, version="2"
    )
    kill = raw_item(
        f"KILL KILL KILL\n\nPlease kill the item headlined 'Port strike {marker}'.",
        guid=guid,
        version="3",
    )
    other = raw_item(f"Harbour fees {marker}\n\nFees rise in April.")
    refused = raw_item(f"Bridge closed {marker}\n\nREFUSE-ME: the bridge closed.")
    for item in (first, second, kill, other, refused):
        assert pushing.collect([item])[item.id].status == "published"

    wait_for(lambda: len(receiver.delivered()) == 4, timeout=120)
    delivered = [request.story() for request in receiver.delivered()]
    uri = next(s["uri"] for s in delivered if s["pubStatus"] == "canceled")  # the killed one
    port_strike = [(s["version"], s["pubStatus"]) for s in delivered if s["uri"] == uri]
    assert port_strike == [("1", "usable"), ("2", "usable"), ("3", "canceled")]
    assert any(request.status == 503 for request in receiver.requests)  # the outage was seen
    for request in receiver.requests:
        assert request.signed_with(SECRET)
        story = request.story()
        assert request.headers["Idempotency-Key"] == f"{story['uri']}:{story['version']}"
    failures = TopicNames.for_settings(pushing.settings).push_failures

    def failed() -> list[dict[str, Any]]:
        return [r for r in topic_records(pushing.settings, failures) if r["subscription"] == name]

    wait_for(lambda: len(failed()) == 1, timeout=60)
    assert failed()[0]["status"] == 400
    history = read_events(pushing, seconds=3).split("data: ", 1)[1].split("\n", 1)[0]
    (shown,) = [p for p in orjson.loads(history)[-1]["pushes"] if p["name"] == name]
    assert shown["delivered"] == 4 and shown["failed"] == 1 and shown["retried"] > 0

    # The receiver lost its data: `newswire subscriptions resend` delivers it all again,
    # with the same keys, each story in order.
    keys = [request.headers["Idempotency-Key"] for request in receiver.delivered()]
    before = len(receiver.requests)
    resend = subprocess.run(
        [sys.executable, "-m", "agents.cli", "subscriptions", "resend", name, "--from", "1h"],
        env=environment(pushing.settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resend.returncode == 0, resend.stderr
    assert resend.stdout.startswith(f"resent 5 records of {name}")
    again = [r for r in receiver.requests[before:] if r.status == 200]
    assert sorted(r.headers["Idempotency-Key"] for r in again) == sorted(keys)
    assert [r.story()["version"] for r in again if r.story()["uri"] == uri] == ["1", "2", "3"]


def test_the_pull_api_reads_every_record_once_by_its_cursor(pushing: WorkerProcess) -> None:
    marker = uuid.uuid4().hex[:8]
    name = f"app-{marker}"
    assert subscribe(pushing, {"name": name, "filter": {"keywords": [marker]}}) == 201
    time.sleep(3)
    items = [raw_item(f"Story {n} {marker}\n\nText {n} about {marker}.") for n in range(12)]
    read: list[str] = []
    cursor = ""
    for written in (6, 12):
        pushing.collect(items[written - 6 : written])  # written while the reader goes on
        deadline = time.monotonic() + 60
        while len(read) < written and time.monotonic() < deadline:
            after = f"&after={cursor}" if cursor else ""
            status, body = pushing.get(f"/subscriptions/{name}/stories?limit=4&wait=2{after}")
            assert status == 200
            page = orjson.loads(body)
            read.extend(story["newswire"]["itemId"] for story in page["stories"])
            cursor = page["cursor"]
    assert sorted(read) == sorted(item.id for item in items)  # every one, once
    assert pushing.get(f"/subscriptions/{name}/stories?after=not-a-cursor")[0] == 400


def test_a_push_url_inside_the_network_is_refused_unless_allowed(worker: WorkerProcess) -> None:
    for url in ("http://127.0.0.1:9/hook", "https://10.1.2.3/hook", "http://example.org/hook"):
        body = {"name": f"x-{uuid.uuid4().hex[:6]}", "push": {"url": url, "secret": SECRET}}
        assert subscribe(worker, body) == 400, url
