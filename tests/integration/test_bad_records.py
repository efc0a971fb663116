"""One bad record never stops the wire: poison records written straight to ``wire.raw`` each
get their dead letter while the worker keeps running; careless or hostile HTTP requests get a
clear 4xx; an embargoed story shows on the open dashboard stream only as embargoed."""

from __future__ import annotations

import base64
import gzip
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from agents.kafka.topics import TopicNames
from pipeline.chain import item_id_for
from pipeline.config import Settings
from tests.conftest import raw_item
from tests.integration.conftest import (
    WorkerProcess,
    isolated,
    nested,
    produce,
    read_events,
    start_worker,
    topic_records,
    wait_for,
)
from tests.integration.test_backbone import unique_story

pytestmark = pytest.mark.kafka

TOKEN = "desk-token"
MAX_ITEM = 1024 * 1024


@pytest.fixture(scope="module")
def guarded(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    """A worker with a token and a 1 MiB item limit: a 1.9 MiB body is under the HTTP limit
    and its dead letter would have been over the producer's 2 MiB."""
    home = tmp_path_factory.mktemp("bad-records")
    settings = replace(
        isolated(kafka), home=home, api_token=TOKEN, enrich=False, max_item_bytes=MAX_ITEM
    )
    worker = start_worker(settings, home / "worker.log")
    yield worker
    worker.stop()


def item_json(deep_field: str | None = None, **fields: Any) -> bytes:
    """A raw item, with ``deep_field`` holding a value nested 300 deep."""
    item = {
        "id": uuid.uuid4().hex,
        "source": "probe",
        "receivedAt": datetime.now(UTC).isoformat(),
        "format": "text",
        "content": "Probe\n\nA probe story.",
    }
    text = orjson.dumps(item | fields)
    if deep_field is None:
        return text
    return text[:-1] + f', "{deep_field}": {nested(300)}}}'.encode()


def test_poison_records_become_dead_letters_and_the_worker_goes_on(
    guarded: WorkerProcess,
) -> None:
    settings = guarded.settings
    deep = item_json(deep_field="meta")
    future = item_json(receivedAt="9999-12-31T00:00:00Z")
    deep_ninjs = item_json(format="ninjs", content=nested(300))
    poison: list[tuple[bytes, bytes | None]] = [
        (b"null-value", None),
        (b"deep", deep),
        (b"future", future),
        (b"deep-ninjs", deep_ninjs),
        (b"array", b"[1, 2, 3]"),
        (b"binary", bytes(range(256)) * 4),
    ]
    produce(settings, poison)
    good = raw_item(unique_story("Still on the wire after the poison"))
    assert guarded.collect([good])[good.id].status == "published"

    rejected = TopicNames.for_settings(settings).rejected
    expected = {item_id_for(value) for _, value in poison}

    def letters() -> dict[str, dict[str, Any]]:
        found = {letter["itemId"]: letter for letter in topic_records(settings, rejected)}
        return {item_id: found[item_id] for item_id in expected if item_id in found}

    wait_for(lambda: len(letters()) == len(expected))
    by_id = letters()
    assert "nested deeper" in by_id[item_id_for(deep)]["reason"]
    assert "ahead of now" in by_id[item_id_for(future)]["reason"]
    assert base64.b64decode(by_id[item_id_for(future)]["original"]) == future
    assert guarded.process.poll() is None
    assert guarded.get("/ready")[0] == 200


def test_a_body_over_the_item_limit_gets_a_dead_letter_that_fits(guarded: WorkerProcess) -> None:
    """Its dead letter carries the first MiB with the whole length and digest; before, its
    base64 was over the producer's limit and retried for good, wedging the worker."""
    body = ("Huge story\n\n" + "All work and no play. " * 90_000).encode()
    assert MAX_ITEM < len(body) < 2 * MAX_ITEM
    status, answer = post(guarded, "/ingest?format=text", body)
    assert status == 202, answer
    rejected = TopicNames.for_settings(guarded.settings).rejected

    def letter() -> dict[str, Any] | None:
        found = [
            value
            for value in topic_records(guarded.settings, rejected)
            if value["itemId"] == answer["id"]
        ]
        return found[0] if found else None

    wait_for(lambda: letter() is not None)
    found = letter()
    assert found is not None and found["code"] == "too-large"
    assert found["originalTruncated"] is True and found["originalBytes"] > MAX_ITEM
    assert len(base64.b64decode(found["original"])) == MAX_ITEM
    good = raw_item(unique_story("After the huge one"))
    assert guarded.collect([good])[good.id].status == "published"
    assert guarded.get("/ready")[0] == 200


def post(
    worker: WorkerProcess, path: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        worker.settings.web_url + path,
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), orjson.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, orjson.loads(error.read() or b"{}")


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/ingest", b"null", "must be an object"),
        ("/ingest", b"42", "must be an object"),
        ("/ingest", b"[1, 2, 3]", "must be an object"),
        ("/ingest", f'{{"content": "x", "meta": {nested(300)}}}'.encode(), "nested deeper"),
        ("/ingest", f'{{"headline": "x", "extra": {nested(300)}}}'.encode(), "nested deeper"),
        ("/ingest", orjson.dumps({"content": "x", "receivedAt": "9999-01-01T00:00:00Z"}), "ahead"),
        ("/ingest", orjson.dumps({"content": "x", "receivedAt": "1900-01-01T00:00:00Z"}), "1970"),
        ("/subscriptions", orjson.dumps({"name": "abc\n", "filter": {}}), "subscription name"),
        ("/subscriptions", orjson.dumps({"name": "desk", "filters": {}}), "unknown"),
    ],
)
def test_careless_requests_get_400_with_the_reason(
    guarded: WorkerProcess, path: str, body: bytes, reason: str
) -> None:
    status, answer = post(guarded, path, body)
    assert status == 400
    assert reason in answer["error"]


def test_a_broken_gzip_body_is_the_clients_error(guarded: WorkerProcess) -> None:
    status, answer = post(guarded, "/ingest", b"plain text", {"Content-Encoding": "gzip"})
    assert status == 400 and "cannot be read" in answer["error"]
    story = gzip.compress(unique_story("Sent compressed").encode())
    assert post(guarded, "/ingest", story, {"Content-Encoding": "gzip"})[0] == 202


def test_a_header_that_is_not_utf8_is_no_token(guarded: WorkerProcess) -> None:
    request = urllib.request.Request(
        guarded.settings.web_url + "/ingest", data=b"story", method="POST"
    )
    request.add_header("Authorization", "Bearer d\xe9sk")  # sent as Latin-1 bytes
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code in (400, 401)


def test_the_open_dashboard_stream_never_shows_an_embargoed_headline(
    guarded: WorkerProcess,
) -> None:
    marker = uuid.uuid4().hex[:8]
    until = datetime.now(UTC) + timedelta(hours=2)
    secret = f"Merger agreed {marker}"
    story = raw_item(
        orjson.dumps(
            {
                "uri": f"urn:test:{marker}",
                "type": "text",
                "headlines": [{"role": "main", "value": secret}],
                "bodies": [{"role": "main", "contentType": "text/plain", "value": "Terms."}],
                "embargoedUntil": until.isoformat().replace("+00:00", "Z"),
            }
        ).decode()
    )
    assert guarded.collect([story])[story.id].status == "published"
    seen = read_events(guarded, seconds=8)
    assert secret not in seen
    assert "Embargoed story, " in seen
