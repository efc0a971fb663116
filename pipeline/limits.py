"""Bounds every door applies before a record's content is worked on: nesting depth, times
that cannot be, and the size of what a dead letter carries back.

One record must never stop the wire. A value nested hundreds deep makes recursive code
(schema checks, format readers) raise ``RecursionError``; a time in the year 9999 makes a
story older than its own publication impossible to order. These checks run in the worker's
decode step, in ``newswire ingest``/``process`` and at the HTTP doors alike, so an item is
refused the same way whichever door it came in by.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_DEPTH = 64
"""The deepest nesting of objects and arrays in a JSON value: a ninjs story is under ten."""

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
"""How far ahead of the wall clock a time may be: a provider's clock a few hours fast, or a
time zone mistaken, is ordinary; a day ahead is a wrong date."""

MAX_ORIGINAL_BYTES = 1024 * 1024
"""The most of a record's original bytes a dead letter carries (base64 adds a third): every
dead letter fits in a produce request whatever the item limit is."""


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep ``value`` nests, counted without recursion and only up to ``limit + 1``
    (deeper is too deep whatever its depth)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def too_deep(value: Any) -> str | None:
    """The reason ``value`` is refused for its nesting, or None."""
    if nesting_depth(value) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    return None


def impossible_time(moment: datetime, now: datetime) -> str | None:
    """The reason a received time cannot be right (before 1970, or over a day ahead of the
    wall clock), or None."""
    if moment < EARLIEST:
        return f"{moment.isoformat()} is before 1970"
    if moment > now + FUTURE_SLACK:
        return f"{moment.isoformat()} is more than a day ahead of now"
    return None


def carried_original(
    original: bytes, limit: int = MAX_ORIGINAL_BYTES
) -> tuple[bytes, dict[str, Any]]:
    """What of ``original`` a dead letter carries, and the fields that say so when it is cut:
    its whole length and SHA-256, so that an operator can match it with the source's copy."""
    if len(original) <= limit:
        return original, {}
    return original[:limit], {
        "originalTruncated": True,
        "originalBytes": len(original),
        "originalSha256": hashlib.sha256(original).hexdigest(),
    }
