"""Fuzzing ``wire.raw`` itself: records written straight to the topic, as any producer could,
reach a real worker (not only the stage functions). Null values, binary, JSON of every shape,
nesting from shallow to hundreds deep, sizes around the item limit, and good items among
them: every record gets its outcome and the worker never exits.

``NEWSWIRE_FUZZ_RAW`` sets how many records (200 in ``make test``; ``make fuzz``: 5,000).
"""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from agents.kafka.topics import TopicNames
from pipeline.chain import item_id_for
from pipeline.config import Settings
from tests.integration.conftest import (
    WorkerProcess,
    isolated,
    nested,
    produce,
    start_worker,
    topic_records,
)

pytestmark = pytest.mark.kafka

RECORDS = int(os.environ.get("NEWSWIRE_FUZZ_RAW", "200"))
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def fuzzed(kafka: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    home = tmp_path_factory.mktemp("fuzz-wire")
    settings = replace(isolated(kafka), home=home, enrich=False, max_item_bytes=LIMIT)
    worker = start_worker(settings, home / "worker.log")
    yield worker
    worker.stop()


def item(rng: random.Random, **fields: object) -> dict[str, object]:
    at = datetime.now(UTC) - timedelta(minutes=rng.randint(0, 600))
    words = " ".join(
        rng.choice(["port", "strike", "vote", "rain", "bank", "oil"]) for _ in range(40)
    )
    value = {
        "id": uuid.uuid4().hex,
        "source": rng.choice(["afp", "reuters", "fuzz"]),
        "receivedAt": at.isoformat(),
        "format": rng.choice(["auto", "text", "ninjs", "newsml", "html", "rss"]),
        "content": f"Headline {uuid.uuid4().hex}\n\n{words}",
    }
    return value | fields


def json_of_any_type(rng: random.Random) -> object:
    return rng.choice([None, True, 0, -1.5, "", "text", [], {}, [1, "a"], {"k": None}])


FIELDS = ["id", "source", "receivedAt", "format", "content", "guid", "meta"]
WRONG_TIMES = ["9999-12-31T00:00:00Z", "1900-01-01", "soon"]


def wrong_field(rng: random.Random) -> bytes:
    return orjson.dumps(item(rng, **{rng.choice(FIELDS): json_of_any_type(rng)}))


KINDS: list[Callable[[random.Random], bytes | None]] = [
    lambda rng: None,
    lambda rng: b"",
    lambda rng: rng.randbytes(rng.randint(1, 2000)),
    lambda rng: nested(rng.randint(1, 400)).encode(),
    lambda rng: orjson.dumps(json_of_any_type(rng)),
    lambda rng: orjson.dumps(item(rng)),
    lambda rng: orjson.dumps(item(rng, content="x" * rng.randint(LIMIT - 400, LIMIT + 400))),
    wrong_field,
    lambda rng: orjson.dumps(item(rng, receivedAt=rng.choice(WRONG_TIMES))),
    lambda rng: orjson.dumps(item(rng, format="ninjs", content=nested(rng.randint(50, 400)))),
    lambda rng: orjson.dumps(item(rng))[: rng.randint(1, 60)],
]  # fmt: skip


def test_every_record_written_to_wire_raw_gets_an_outcome(fuzzed: WorkerProcess) -> None:
    rng = random.Random(int(os.environ.get("NEWSWIRE_FUZZ_SEED", "7")))
    records = [KINDS[n % len(KINDS)](rng) for n in range(RECORDS)]
    rng.shuffle(records)
    produce(fuzzed.settings, [(str(n).encode(), value) for n, value in enumerate(records)])
    expected = {item_id_for(value) for value in records}
    names = TopicNames.for_settings(fuzzed.settings)
    outcomes = (names.structured, names.duplicates, names.advisories, names.rejected)

    def decided() -> set[str]:
        found = set()
        for topic in outcomes:
            for value in topic_records(fuzzed.settings, topic, idle=2.0):
                nested_value = value.get("newswire", value)
                found.add(nested_value.get("itemId"))
        return found

    missing = expected
    for _ in range(60):
        missing = expected - decided()
        if not missing or fuzzed.process.poll() is not None:
            break
    assert fuzzed.process.poll() is None, fuzzed.log.read_text()[-3000:]
    assert not missing, f"{len(missing)} of {len(expected)} records without an outcome"
    assert fuzzed.get("/ready")[0] == 200
