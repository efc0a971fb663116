"""Delivery where subscribers are: HTTP push to a real receiver this test starts (signed,
retried through its outage, in order per story, a refused request on the failures topic),
the pull API read to the end by its cursor, and push URLs checked when saved."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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
    start_worker,
    topic_records,
    wait_for,
)

pytestmark = pytest.mark.kafka

SECRET = "a-shared-secret-of-the-desk"
OUTAGE_S = 8.0


@dataclass
class Receiver:
    """A CMS's webhook: 503 for ``OUTAGE_S`` seconds from the first request, then 200; 400
    for a body holding "REFUSE-ME". Every request is kept."""

    port: int
    first: float | None = None
    requests: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)

    def answer(self, body: bytes) -> int:
        self.first = self.first or time.monotonic()
        if time.monotonic() - self.first < OUTAGE_S:
            return 503
        return 400 if b"REFUSE-ME" in body else 200

    def delivered(self) -> list[dict[str, Any]]:
        return [orjson.loads(body) for status, _, body in self.requests if status == 200]


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    found = Receiver(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = found.answer(body)
            found.requests.append((status, dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", found.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    server.shutdown()


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
    push = {"url": f"http://127.0.0.1:{receiver.port}/hook", "secret": SECRET}
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
    delivered = receiver.delivered()
    uri = next(s["uri"] for s in delivered if s["pubStatus"] == "canceled")  # the killed one
    port_strike = [(s["version"], s["pubStatus"]) for s in delivered if s["uri"] == uri]
    assert port_strike == [("1", "usable"), ("2", "usable"), ("3", "canceled")]
    assert any(status == 503 for status, _, _ in receiver.requests)  # the outage was seen
    for _, headers, body in receiver.requests:
        wanted = hmac.new(
            SECRET.encode(), headers["X-Newswire-Timestamp"].encode() + b"." + body, hashlib.sha256
        )
        assert headers["X-Newswire-Signature"] == "sha256=" + wanted.hexdigest()
        story = orjson.loads(body)
        assert headers["Idempotency-Key"] == f"{story['uri']}:{story['version']}"
    failures = TopicNames.for_settings(pushing.settings).push_failures

    def failed() -> list[dict[str, Any]]:
        return [r for r in topic_records(pushing.settings, failures) if r["subscription"] == name]

    wait_for(lambda: len(failed()) == 1, timeout=60)
    assert failed()[0]["status"] == 400

    # The receiver lost its data: `newswire subscriptions resend` delivers it all again,
    # with the same keys, each story in order.
    keys = [headers["Idempotency-Key"] for status, headers, _ in receiver.requests if status == 200]
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
    again = receiver.requests[before:]
    assert sorted(h["Idempotency-Key"] for s, h, _ in again if s == 200) == sorted(keys)
    resent_port_strike = [
        orjson.loads(body)["version"]
        for status, _, body in again
        if status == 200 and orjson.loads(body)["uri"] == uri
    ]
    assert resent_port_strike == ["1", "2", "3"]


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
