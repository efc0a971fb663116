"""The HTTP endpoints that change things require the configured bearer token; request bodies
are limited to what the worker accepts."""

from __future__ import annotations

import gzip
import urllib.request
from collections.abc import Iterator
from dataclasses import replace

import orjson
import pytest

from pipeline.config import Settings
from tests.integration.conftest import WorkerProcess, isolated, start_worker, wait_for

pytestmark = pytest.mark.kafka

TOKEN = "newsroom-secret"


@pytest.fixture(scope="module")
def guarded(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    home = tmp_path_factory.mktemp("guarded")
    settings = replace(
        isolated(kafka), home=home, api_token=TOKEN, enrich=False, max_item_bytes=64 * 1024
    )
    worker = start_worker(settings, home / "worker.log")
    yield worker
    worker.stop()


STORY = b"Harbour reopens\n\nThe harbour in Gdansk reopened on Monday."
SUBSCRIPTION = orjson.dumps({"name": "gdansk", "filter": {"places": ["Gdansk"]}})


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"),
    [
        ("POST", "/ingest", STORY, 202),
        ("POST", "/subscriptions", SUBSCRIPTION, 201),
        ("GET", "/subscriptions", None, 200),
        ("GET", "/subscriptions/gdansk", None, 200),
        ("DELETE", "/subscriptions/gdansk", None, 202),
    ],
)
def test_changes_need_the_token(
    guarded: WorkerProcess, method: str, path: str, body: bytes | None, allowed: int
) -> None:
    assert guarded.call(method, path, body, None) == 401
    assert guarded.call(method, path, body, "wrong") == 401
    # Subscription changes reach the table through its command topic: wait for them.
    wait_for(lambda: guarded.call(method, path, body, TOKEN) == allowed, timeout=30)


def test_reading_endpoints_stay_open(guarded: WorkerProcess) -> None:
    for path in ("/health", "/ready", "/metrics", "/feeds", "/"):
        assert guarded.call("GET", path, None, None) == 200, path


def test_a_body_over_the_limit_is_refused(guarded: WorkerProcess) -> None:
    assert guarded.call("POST", "/ingest", b"x" * (200 * 1024), TOKEN) == 413


def test_a_compressed_bomb_is_refused(guarded: WorkerProcess) -> None:
    """50 MB of zeros in 50 KB of gzip: the body limit counts what it expands to."""
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))
    request = urllib.request.Request(guarded.settings.web_url + "/ingest", data=bomb, method="POST")
    request.add_header("Authorization", f"Bearer {TOKEN}")
    request.add_header("Content-Encoding", "gzip")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = int(response.status)
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 413
    assert guarded.call("GET", "/health", None, None) == 200
