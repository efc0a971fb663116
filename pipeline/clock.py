"""The stream's own clock, which one mis-stamped item cannot move.

Retention and version windows run on event time, so that an archive replayed months later
decides as it did then. Taken as the newest ``receivedAt`` seen, one item stamped years late
(a typo in a feed's date, a live item among a backfill) would move the clock past every
story's retention at once, and every copy after it would be published again. So the clock
follows the bulk of the stream: a high quantile of the most recent times, never going back.
Up to a tenth of the recent items may be stamped wrong without moving it.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

RECENT = 99
"""How many of the latest received times the clock reads."""
QUANTILE = 0.9
"""Which of them it takes: the 89th of 99 in order, so ten outliers cannot move it."""


@dataclass
class EventClock:
    """Event time: a high quantile of the latest ``receivedAt`` values, never ahead of the
    wall clock and never going back."""

    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))
    time: float = 0.0

    def now(self) -> datetime:
        return min(datetime.fromtimestamp(self.time, UTC), datetime.now(UTC))

    def advance(self, received: datetime) -> None:
        self.recent.append(received.timestamp())
        self.time = max(self.time, _quantile(self.recent))

    def restart_from(self, times: Iterable[float]) -> None:
        """Start again from the times of the stories kept (after a restart or a takeover):
        the newest of them stand for the latest items."""
        newest = sorted(heapq.nlargest(RECENT, times))
        if newest:
            self.recent.clear()
            self.recent.extend(newest)
            self.time = max(self.time, _quantile(self.recent))


def _quantile(times: Iterable[float]) -> float:
    ordered = sorted(times)
    return ordered[int(QUANTILE * (len(ordered) - 1))]
