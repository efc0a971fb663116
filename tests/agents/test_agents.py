"""The agents with Faust's test_context: each one calls its pipeline step and routes the result.

No broker here: the topics' ``send`` is replaced by a recorder, as Faust's testing guide does.
The real-broker behaviour is in tests/integration.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any
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
    for name in (*LANE_TOPICS, "structured", "latest", "duplicates", "rejected"):
        topic_of(built, name).publish_message = acknowledged_publish()
    built.app.agents["trends"].channel.publish_message = acknowledged_publish()
    # A table keyed by the partitioner asks the producer for partition counts: one here.
    built.app.producer.key_partition = lambda topic, key: TP(topic, 0)  # type: ignore[method-assign]
    yield built


LANE_TOPICS = ("cleaned", "unique", "urgent.cleaned", "urgent.unique")


def topic_of(newswire: Newswire, name: str) -> Any:
    """A topic by name; "cleaned" is the routine lane's, "urgent.cleaned" the fast lane's."""
    lane, _, stage = name.rpartition(".")
    if stage in ("raw", "cleaned", "unique"):
        return getattr(getattr(newswire.topics, lane or "routine"), stage)
    return getattr(newswire.topics, name)


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
    mock = topic_of(newswire, topic).publish_message
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
    assert letter["headers"]["schema"] == b"newswire.dead-letter/1.7.0"  # type: ignore[index]
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
        "schema": b"newswire.story/1.7.0",
    }
    notice = orjson.loads(duplicate["value"])  # type: ignore[arg-type]
    assert notice["duplicateOf"] == story["uri"]
    (trends_record,) = trends_sent(newswire)
    assert [summary["uri"] for summary in trends_record] == [story["uri"]]


def trends_sent(newswire: Newswire) -> list[Any]:
    """The values published to the trends topic: each a published batch's summaries."""
    mock = newswire.app.agents["trends"].channel.publish_message
    return [orjson.loads(call.args[0].message.value) for call in mock.call_args_list]


async def test_the_trends_agent_counts_a_batch_record_and_an_earlier_single_one(
    newswire: Newswire,
) -> None:
    def summary(uri: str, *entities: list[str]) -> dict[str, Any]:
        return {"uri": uri, "version": 1, "headline": uri, "entities": list(entities)}

    mayor = ["person", "Ann Lee", "name:Ann Lee"]
    async with newswire.app.agents["trends"].test_context() as agent:
        await agent.put(orjson.dumps([summary("a", mayor), summary("b", mayor)]))
        await agent.put(orjson.dumps(summary("c", mayor)))
    assert [s["uri"] for s in newswire.trends.latest] == ["c", "b", "a"]
    assert newswire.trends.top(time.time())["person"] == [("Ann Lee", 3)]


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


FLASH = "FLASH\n\nQuake hits the capital\n\nA strong earthquake struck the capital on Monday."


async def through(newswire: Newswire, agent_name: str, values: list[Any], outcomes: int) -> None:
    """Hand ``values`` to an agent and wait until its stage has counted ``outcomes`` in all."""
    async with newswire.app.agents[agent_name].test_context() as agent:
        for value in values:
            await agent.put(value)
        await settled(newswire, agent_name.split("-")[0], outcomes)


def values(newswire: Newswire, topic: str) -> list[Any]:
    return [record["value"] for record in sent(newswire, topic)]


async def test_a_flash_in_both_lanes_is_published_once(newswire: Newswire) -> None:
    flash = raw_item(FLASH).to_json()
    await through(newswire, "clean-urgent", [flash], 1)
    await through(newswire, "clean", [flash], 2)  # the routine lane handles it too, in place
    await through(newswire, "dedup-urgent", values(newswire, "urgent.cleaned"), 1)
    await through(newswire, "dedup", values(newswire, "cleaned"), 2)
    (fast,) = sent(newswire, "urgent.unique")
    (again,) = sent(newswire, "unique")
    assert fast["key"] == again["key"]  # decided once: the same story and version
    await through(newswire, "publish-urgent", [fast["value"]], 1)
    await through(newswire, "publish", [again["value"]], 2)
    assert len(sent(newswire, "structured")) == 1
    assert newswire.metrics.totals["publish.already-published"] == 1


async def test_the_fast_lane_runs_every_stage_on_its_own_topics(newswire: Newswire) -> None:
    await through(newswire, "clean-urgent", [raw_item(FLASH).to_json()], 1)
    await through(newswire, "dedup-urgent", values(newswire, "urgent.cleaned"), 1)
    await through(newswire, "publish-urgent", values(newswire, "urgent.unique"), 1)
    assert sent(newswire, "cleaned") == sent(newswire, "unique") == []
    (story,) = (orjson.loads(value) for value in values(newswire, "structured"))
    assert story["headlines"][0]["value"] == "Quake hits the capital"
    assert story["urgency"] == 1
    assert story["newswire"]["lifecycle"]["urgency"] == "flash"
    assert story["edNote"] == "FLASH"


async def test_a_version_decided_in_the_fast_lane_joins_the_routine_lane(
    newswire: Newswire,
) -> None:
    story = raw_item(STORY, source="wire", guid="g-1")
    flash = raw_item(FLASH, source="wire", guid="g-1")  # the same story, new text
    await through(newswire, "clean", [story.to_json()], 1)
    await through(newswire, "clean-urgent", [flash.to_json()], 2)
    await through(newswire, "dedup", values(newswire, "cleaned"), 1)
    await through(newswire, "dedup-urgent", values(newswire, "urgent.cleaned"), 2)
    # Behind the story's first version, which may still be queued in the routine lane.
    assert sent(newswire, "urgent.unique") == []
    first, second = (orjson.loads(value) for value in values(newswire, "unique"))
    assert (first["decision"]["version"], second["decision"]["version"]) == (1, 2)
