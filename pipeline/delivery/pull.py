"""The pull API's cursor: where a consumer that cannot take a push stands in a subscription's
topic, as the next offset of every partition, opaque to it (URL-safe base64 of JSON)."""

from __future__ import annotations

import base64
import binascii

import orjson

MAX_LIMIT = 500
MAX_WAIT_S = 30.0


class BadCursor(ValueError):
    """A cursor this API did not give."""


def encode_cursor(positions: dict[int, int]) -> str:
    data = orjson.dumps({str(p): o for p, o in sorted(positions.items())})
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[int, int]:
    """The positions of a cursor; none (from the beginning) without one."""
    if not cursor:
        return {}
    try:
        data = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = orjson.loads(data)
        positions = {int(p): int(o) for p, o in value.items()}
    except (binascii.Error, ValueError, AttributeError, TypeError):
        raise BadCursor("the cursor is not one this API gave") from None
    if any(p < 0 or o < 0 for p, o in positions.items()):
        raise BadCursor("the cursor is not one this API gave")
    return positions


def page_size(limit: str | None, wait: str | None) -> tuple[int, float]:
    """``limit`` (1-500, default 100) and ``wait`` in seconds (0-30, default 0) of a request."""
    try:
        count = int(limit) if limit else 100
        seconds = float(wait) if wait else 0.0
    except ValueError:
        raise BadCursor("limit is a whole number and wait a number of seconds") from None
    if not 1 <= count <= MAX_LIMIT or not 0 <= seconds <= MAX_WAIT_S:
        raise BadCursor(f"limit is 1 to {MAX_LIMIT}, wait 0 to {MAX_WAIT_S:.0f} seconds")
    return count, seconds
