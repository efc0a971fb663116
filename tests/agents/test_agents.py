"""The agents with Faust's test_context: each one calls its pipeline step and routes the result.

No broker here: the topics' ``send`` is replaced by a recorder, as Faust's testing guide does.
The real-broker behaviour is in tests/integration.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from unittest.mock import AsyncMock

import orjson
import pytest
from faust.types import TP
from faust.types.tuples import FutureMessage

from agents.app import Newswire, create_app
from pipeline.config import Settings
from pipeline.validation import validation_error
from tests.conftest import raw_item

STORY = "A headline for agents\n\nThe first paragraph.\n\nThe second paragraph."


@pytest.fixture()
def newswire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newswire]:
    settings = Settings.load(
        {},
        home=tmp_path_factory.mktemp("home"),
        app_id="agents-test",
        store="memory://",
        enrich=False,
    )
    built = create_app(settings)
    built.app.finalize()
    built.app.flow_control.resume()
    for name in ("cleaned", "unique", "structured", "latest", "duplicates", "rejected"):
        getattr(built.topics, name).publish_message = acknowledged_publish()
    built.app.agents["trends"].channel.publish_message = acknowledged_publish()
    # A table keyed by the partitioner asks the producer for partition counts: one here.
    built.app.producer.key_partition = lambda topic, key: TP(topic, 0)  # type: ignore[method-assign]
    yield built


def acknowledged_publish() -> AsyncMock:
    """A topic's publish that records the record and has the broker acknowledge it."""

    async def publish(fut: FutureMessage) -> None:
        fut.set_result(None)  # type: ignore[arg-type]

    return AsyncMock(side_effect=publish)


async def settled(newswire: Newswire, stage: str, items: int) -> None:
    """Wait until the agent of ``stage`` has counted ``items`` outcomes: dedup and publish
    await a thread (the band index, the model), and their test context stops them on exit."""
    totals = newswire.metrics.totals
    for _ in range(500):
        if sum(n for key, n in totals.items() if key.startswith(f"{stage}.")) >= items:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the {stage} agent counted {dict(totals)}, not {items} items")


def sent(newswire: Newswire, topic: str) -> list[dict[str, object]]:
    """The records published to ``topic``, as key, value and headers."""
    mock = getattr(newswire.topics, topic).publish_message
    messages = [call.args[0].message for call in mock.call_args_list]
    return [{"key": m.key, "value": m.value, "headers": m.headers} for m in messages]


async def test_clean_agent_keys_cleaned_items_by_fingerprint(newswire: Newswire) -> None:
    async with newswire.app.agents["clean"].test_context() as agent:
        await agent.put(raw_item(STORY).to_json())
    (record,) = sent(newswire, "cleaned")
    value = orjson.loads(record["value"])  # type: ignore[arg-type]
    assert record["key"] == value["fingerprint"].encode()
    assert value["article"]["headline"] == "A headline for agents"
    assert sent(newswire, "rejected") == []


async def test_clean_agent_sends_bad_bytes_to_rejected_and_keeps_going(newswire: Newswire) -> None:
    async with newswire.app.agents["clean"].test_context() as agent:
        await agent.put(b"\x00\x01 not json")
        await agent.put(raw_item(STORY).to_json())
    (letter,) = sent(newswire, "rejected")
    assert orjson.loads(letter["value"])["stage"] == "decode"  # type: ignore[arg-type]
    assert letter["headers"]["schema"] == b"newswire.dead-letter/1.4.0"  # type: ignore[index]
    assert len(sent(newswire, "cleaned")) == 1


async def test_dedup_then_publish(newswire: Newswire) -> None:
    async with newswire.app.agents["clean"].test_context() as agent:
        await agent.put(raw_item(STORY).to_json())
        await agent.put(raw_item(STORY + "\n\nAdvertisement").to_json())
    cleaned = [record["value"] for record in sent(newswire, "cleaned")]
    async with newswire.app.agents["dedup"].test_context() as agent:
        for value in cleaned:
            await agent.put(value)
        await settled(newswire, "dedup", 2)
    (unique,) = sent(newswire, "unique")
    (duplicate,) = sent(newswire, "duplicates")
    async with newswire.app.agents["publish"].test_context() as agent:
        await agent.put(unique["value"])
        await settled(newswire, "publish", 1)
    (story_record,) = sent(newswire, "structured")
    (latest_record,) = sent(newswire, "latest")
    story = orjson.loads(story_record["value"])  # type: ignore[arg-type]
    assert validation_error("story", story) is None
    assert story_record["key"] == story["uri"].encode() == latest_record["key"]
    assert story_record["headers"] == {
        "content-type": b"application/json",
        "schema": b"newswire.story/1.4.0",
    }
    notice = orjson.loads(duplicate["value"])  # type: ignore[arg-type]
    assert notice["duplicateOf"] == story["uri"]


async def test_a_replayed_version_is_not_published_twice(newswire: Newswire) -> None:
    async with newswire.app.agents["clean"].test_context() as agent:
        await agent.put(raw_item(STORY).to_json())
    (cleaned,) = sent(newswire, "cleaned")
    async with newswire.app.agents["dedup"].test_context() as agent:
        await agent.put(cleaned["value"])
        await settled(newswire, "dedup", 1)
    (unique,) = sent(newswire, "unique")
    async with newswire.app.agents["publish"].test_context() as agent:
        await agent.put(unique["value"])
        await agent.put(unique["value"])  # redelivered after a crash before the commit
        await settled(newswire, "publish", 2)
    assert len(sent(newswire, "structured")) == 1
