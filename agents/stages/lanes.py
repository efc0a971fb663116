"""Routine work steps aside for the fast lane inside a worker.

Topics of its own keep an urgent item out of the routine queues, but the stages of both lanes
share one event loop, the cleaning processes, the model's cores and the producer; under a
backlog the routine lane keeps them all busy. So, while a fast-lane agent handles an item (and
a moment after, for the item's next stage to take it up), routine agents wait before taking
their next batch. A routine batch already started finishes. A flood of urgent items cannot
stop the routine lane: it waits at most ``MAX_STEP_ASIDE_S`` per batch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import faust
from faust.types import EventT

from agents.kafka.outbox import Handler, Outbox, Prepare, Quarantine
from agents.kafka.topics import Lane

HOLD_S = 0.3
"""How long after a fast-lane step routine work still waits: the next stage's turn."""
MAX_STEP_ASIDE_S = 2.0
POLL_S = 0.01


class FastLane:
    def __init__(self) -> None:
        self._busy = 0
        self._until = 0.0

    def note_urgent(self) -> None:
        """An urgent item is on its way here (the triage has just copied it)."""
        self._until = max(self._until, time.monotonic() + HOLD_S)

    def handler(self, lane: Lane, handle: Handler) -> Handler:
        """``handle`` for an agent of ``lane``: marking the fast lane busy, or waiting for it."""
        if lane.name == "urgent":

            async def urgent(events: Sequence[EventT[Any]]) -> None:
                self._busy += 1
                try:
                    await handle(events)
                finally:
                    self._busy -= 1
                    self.note_urgent()

            return urgent

        async def routine(events: Sequence[EventT[Any]]) -> None:
            await self._routine_turn()
            await handle(events)

        return routine

    def agent(
        self,
        app: faust.App,
        outbox: Outbox,
        stage: str,
        lane: Lane,
        source: faust.TopicT,
        handle: Handler,
        size: int = 1,
        within: float = 0.0,
        quarantine: Quarantine | None = None,
        prepare: Prepare | None = None,
    ) -> None:
        """The agent of ``stage`` in ``lane``: ``handle`` over batches of ``source`` (as
        ``Outbox.consume`` takes them, with ``prepare``), stepping aside or marking the fast
        lane busy. The routine lane's agents keep the stage's name; the fast lane's add
        "-urgent". A record the stage fails on goes to ``quarantine``."""
        name = stage if lane.name == "routine" else f"{stage}-{lane.name}"
        gated = self.handler(lane, handle)

        @app.agent(source, name=name)
        async def lane_agent(stream: faust.StreamT[bytes]) -> None:
            await outbox.consume(stream, gated, size, within, quarantine, prepare)

    async def _routine_turn(self) -> None:
        deadline = time.monotonic() + MAX_STEP_ASIDE_S
        while (self._busy or time.monotonic() < self._until) and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
