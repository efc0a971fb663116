"""Routine work steps aside while the fast lane is busy, and never for longer than its bound."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import pytest
from faust.types import EventT

from agents.kafka.topics import Lane
from agents.stages import lanes
from agents.stages.lanes import FastLane


def lane(name: str) -> Lane:
    return Lane(name, raw=None, cleaned=None, unique=None)  # type: ignore[arg-type]


async def test_a_routine_batch_waits_until_the_urgent_one_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lanes, "HOLD_S", 0.05)
    fast_lane, order = FastLane(), []
    release = asyncio.Event()

    async def urgent_step(events: Sequence[EventT[Any]]) -> None:
        order.append("urgent started")
        await release.wait()
        order.append("urgent done")

    async def routine_step(events: Sequence[EventT[Any]]) -> None:
        order.append("routine")

    urgent = asyncio.create_task(fast_lane.handler(lane("urgent"), urgent_step)([]))
    await asyncio.sleep(0)
    routine = asyncio.create_task(fast_lane.handler(lane("routine"), routine_step)([]))
    await asyncio.sleep(0.1)
    assert order == ["urgent started"]
    release.set()
    await asyncio.gather(urgent, routine)
    assert order == ["urgent started", "urgent done", "routine"]


async def test_the_routine_lane_waits_at_most_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lanes, "MAX_STEP_ASIDE_S", 0.2)
    monkeypatch.setattr(lanes, "HOLD_S", 60.0)
    fast_lane = FastLane()
    fast_lane.note_urgent()  # an urgent item for the next minute, as a flood would keep it
    done: list[float] = []

    async def routine_step(events: Sequence[EventT[Any]]) -> None:
        done.append(time.monotonic())

    started = time.monotonic()
    await fast_lane.handler(lane("routine"), routine_step)([])
    assert 0.2 <= done[0] - started < 1.0
