"""Feeds in a real worker on the real broker: a drop folder, an RSS feed served here on
127.0.0.1 and an agency push each become stories with the feed as their source."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest

from agents.kafka.topics import TopicNames, ensure_topics
from pipeline.config import Settings
from tests.conftest import ROOT, run_newswire
from tests.integration.conftest import (
    WorkerProcess,
    environment,
    isolated,
    start_worker,
    topic_records,
    wait_for,
)

pytestmark = pytest.mark.kafka

MARKER = uuid.uuid4().hex[:8]
TOKEN = "push-" + uuid.uuid4().hex


class FeedHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
            f"<item><guid>wire-{MARKER}-1</guid><title>Ferry service resumes {MARKER}</title>"
            "<description>The ferry between Gdansk and Nynashamn resumed on Monday, the "
            "operator said.</description></item></channel></rss>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def feed_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FeedHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()


@pytest.fixture(scope="module")
def feeding_worker(
    kafka: Settings, tmp_path_factory: pytest.TempPathFactory, feed_url: str
) -> Iterator[WorkerProcess]:
    home = tmp_path_factory.mktemp("feeds")
    (home / "drop").mkdir()
    feeds = {
        "feeds": [
            {"name": "desk-drop", "kind": "folder", "path": str(home / "drop"),
             "pattern": "*.txt", "poll_seconds": 0.5, "settle_seconds": 0.5},
            {"name": "rss-wire", "kind": "rss", "url": feed_url, "poll_seconds": 1},
            {"name": "agency-push", "kind": "http-push", "token_env": "AGENCY_PUSH_TOKEN"},
        ]
    }  # fmt: skip
    (home / "feeds.json").write_bytes(orjson.dumps(feeds))
    settings = replace(isolated(kafka), home=home, feeds_file=str(home / "feeds.json"))
    worker = start_worker(settings, home / "worker.log", {"AGENCY_PUSH_TOKEN": TOKEN})
    yield worker
    worker.stop()


def stories_from(worker: WorkerProcess, source: str) -> list[dict[str, Any]]:
    structured = TopicNames.for_settings(worker.settings).structured
    return [
        story
        for story in topic_records(worker.settings, structured, idle=1.0)
        if story["newswire"]["source"] == source
    ]


def test_a_file_dropped_in_the_folder_becomes_a_story(feeding_worker: WorkerProcess) -> None:
    drop = feeding_worker.settings.home / "drop"
    (drop / "harbour.txt").write_text(
        f"Harbour reopens {MARKER}\n\nThe harbour in Gdansk reopened on Monday, the port "
        "authority said.\n"
    )
    wait_for(lambda: bool(stories_from(feeding_worker, "desk-drop")), timeout=60)
    (story,) = stories_from(feeding_worker, "desk-drop")
    assert story["headlines"][0]["value"] == f"Harbour reopens {MARKER}"
    assert (drop / ".processed" / "harbour.txt").exists()


def test_an_rss_entry_becomes_one_story(feeding_worker: WorkerProcess) -> None:
    wait_for(lambda: bool(stories_from(feeding_worker, "rss-wire")), timeout=60)
    (story,) = stories_from(feeding_worker, "rss-wire")
    assert story["headlines"][0]["value"] == f"Ferry service resumes {MARKER}"


def push(worker: WorkerProcess, body: bytes, token: str | None) -> int:
    return worker.call("POST", "/feeds/agency-push", body, token)


def test_a_push_needs_the_token_and_becomes_a_story(feeding_worker: WorkerProcess) -> None:
    body = (
        f"Rail strike ends {MARKER}\n\nDeutsche Bahn and the GDL union agreed in Berlin on Tuesday."
    ).encode()
    assert push(feeding_worker, body, None) == 401
    assert push(feeding_worker, body, "wrong") == 401
    assert push(feeding_worker, body, TOKEN) == 202
    wait_for(lambda: bool(stories_from(feeding_worker, "agency-push")), timeout=60)


def test_feed_health_is_served_listed_and_measured(feeding_worker: WorkerProcess) -> None:
    wait_for(lambda: bool(stories_from(feeding_worker, "rss-wire")), timeout=60)
    status, body = feeding_worker.get("/feeds")
    assert status == 200
    feeds = {feed["name"]: feed for feed in orjson.loads(body)["feeds"]}
    assert set(feeds) == {"desk-drop", "rss-wire", "agency-push"}
    assert feeds["rss-wire"]["itemsTotal"] == 1
    assert feeds["rss-wire"]["state"] == "ok"
    metrics = feeding_worker.get("/metrics")[1].decode()
    assert 'newswire_feed_items_total{feed="rss-wire"' in metrics
    listing = run_newswire(
        "feeds", "list", env=environment(feeding_worker.settings), timeout=60
    ).stdout.decode()
    assert "rss-wire" in listing and "desk-drop" in listing
    assert listing.splitlines()[0].split()[:3] == ["feed", "kind", "state"]


def test_feeds_run_on_its_own_sends_to_wire_raw(kafka: Settings, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "brief.txt").write_text(f"Bridge closed {MARKER}\n\nThe bridge was closed today.\n")
    feeds = {"feeds": [{"name": "night-desk", "kind": "folder", "path": str(drop),
                        "poll_seconds": 0.5, "settle_seconds": 0.5}]}  # fmt: skip
    (tmp_path / "feeds.json").write_bytes(orjson.dumps(feeds))
    settings = replace(isolated(kafka), home=tmp_path, feeds_file=str(tmp_path / "feeds.json"))
    asyncio.run(ensure_topics(settings))
    runner = subprocess.Popen(
        [sys.executable, "-m", "agents.cli", "feeds", "run"],
        cwd=ROOT,
        env=environment(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for(lambda: (drop / ".processed" / "brief.txt").exists(), timeout=60)
        raw = topic_records(settings, TopicNames.for_settings(settings).raw, idle=1.0)
        assert [(item["source"], item["content"][:13]) for item in raw] == [
            ("night-desk", "Bridge closed")
        ]
        with urllib.request.urlopen(settings.web_url + "/feeds", timeout=10) as response:
            (feed,) = orjson.loads(response.read())["feeds"]
        assert (feed["name"], feed["itemsTotal"]) == ("night-desk", 1)
    finally:
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=30)
