"""Stories held back from public subscriptions: what is held, replaced, due and released."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from agents.stages.embargo import EmbargoHolds
from pipeline.config import Settings

URI = "urn:newswire:story:abc"


def story(version: int, until: str | None) -> dict[str, Any]:
    embargo = {"embargoed": True, **({"until": until} if until else {})}
    return {"uri": URI, "version": str(version), "newswire": {"embargo": embargo}}


def held(holds: EmbargoHolds, version: int, until: str | None) -> None:
    value = story(version, until)
    holds.hold(URI, "web", value, orjson.dumps(value))


class FakeOutbox:
    @asynccontextmanager
    async def acknowledged(self) -> AsyncIterator[None]:
        yield


def holds_of(table: dict[bytes, Any]) -> EmbargoHolds:
    holds = EmbargoHolds(table, Settings(partitions=1), "unique")
    holds.assigned_at = 0.0  # long settled
    return holds


def test_a_newer_version_replaces_the_held_one_and_an_older_one_does_not() -> None:
    holds = holds_of({})
    held(holds, 1, "2026-01-01T12:00:00Z")
    held(holds, 2, "2026-01-02T12:00:00Z")  # the embargo moved
    held(holds, 1, "2026-01-01T12:00:00Z")  # a late copy of the first
    assert [(h["v"], h["until"]) for _, _, h in holds.due({0}, 2e9)] == [(2, 1767355200.0)]
    holds.drop(URI, "web", 3)  # a version 3 without embargo went out
    assert holds.due({0}, 2e9) == []


def test_only_due_stories_of_owned_partitions_with_a_known_time_are_due() -> None:
    holds = holds_of({})
    held(holds, 1, "2026-01-01T12:00:00Z")
    assert holds.due({0}, 1767268799.0) == []  # a second early
    assert holds.due(set(), 2e9) == []  # another worker's partition
    held(holds, 2, None)  # time unknown: never due
    assert holds.due({0}, 2e9) == []


async def test_a_story_already_on_its_topic_is_not_sent_again() -> None:
    holds = holds_of({})
    held(holds, 1, "2026-01-01T12:00:00Z")
    sent: list[bytes] = []

    async def send(name: str, key: bytes, value: bytes) -> None:
        sent.append(key)

    async def already_out(due: Any) -> set[tuple[str, bytes, str]]:
        return {("web", URI.encode(), "1")}  # it went out before a crash

    holds._already_out = already_out  # type: ignore[method-assign]
    await holds.release_due({0}, FakeOutbox(), send)  # type: ignore[arg-type]
    assert sent == [] and holds.table == {}

    held(holds, 2, "2026-01-01T12:00:00Z")
    await holds.release_due({0}, FakeOutbox(), send)  # type: ignore[arg-type]
    assert sent == [URI.encode()] and holds.table == {}
