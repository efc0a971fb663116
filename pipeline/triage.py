"""Which lane a raw item takes. Flash and bulletin copy (the provider's urgency 1 or 2) goes
through every stage on topics of its own, so that it never waits behind a queue of routine
items.

The triage reads a ``wire.raw`` record as it arrives, ahead of any backlog, so it must cost
microseconds: it reads the urgency where each format keeps it without parsing the whole
document (the first ``<urgency>`` of NewsML-G2, ninjs's top-level ``urgency``, plain copy's
FLASH and BULLETIN lines). The story's urgency is still read in full by the clean stage; the
lane decides only how soon an item is handled, never what becomes of it.

Only a story's first version takes the fast lane, and only a new story stays in it once
dedup has decided, so that the order of a story's versions is the order they came in, as in
batch mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from pipeline.control import read_agency_lines
from pipeline.dedup import Decision, version_numbers
from pipeline.formats import detect_format
from pipeline.formats.ninjs import urgency_of
from pipeline.formats.text import split_blocks
from pipeline.records import Control, utc_now

FAST_LANE_URGENCY = 2
"""Flash (1) and bulletin (2), on the scale AP, ninjs and NewsML-G2 share."""
_HEAD_CHARS = 4096
"""Plain copy's agency lines stand at its top."""
_NEWSML_URGENCY = re.compile(r"<(?:[\w.-]+:)?urgency\b[^>]*>\s*(\d+)\s*</")
_NEWSML_VERSION = re.compile(r"<(?:[\w.-]+:)?newsItem\b[^>]*?\sversion=[\"'](?P<version>[^\"']*)")


@dataclass(frozen=True)
class Sniffed:
    """What the triage reads of a raw item: the provider's urgency and version."""

    urgency: int | None = None
    version: str | None = None


def sniff(record: bytes) -> Sniffed:
    """The urgency and version a raw item gives, as cheaply as each format allows; nothing
    for what is no raw item (the clean stage says why)."""
    try:
        item = orjson.loads(record)
    except orjson.JSONDecodeError:
        return Sniffed()
    content = item.get("content") if isinstance(item, dict) else None
    if not isinstance(content, str):
        return Sniffed()
    envelope = item.get("version") if isinstance(item.get("version"), str) else None
    chosen = item.get("format", "auto")
    if chosen == "auto":
        chosen = detect_format(content)
    if chosen == "ninjs":
        try:
            document = orjson.loads(content)
        except orjson.JSONDecodeError:
            return Sniffed()
        if not isinstance(document, dict):
            return Sniffed()
        lowered = {str(key).lower(): value for key, value in document.items()}
        version = lowered.get("version")
        return Sniffed(urgency_of(lowered), version if isinstance(version, str) else envelope)
    if chosen == "newsml":
        urgency = _NEWSML_URGENCY.search(content)
        version = _NEWSML_VERSION.search(content)
        return Sniffed(
            int(urgency[1]) if urgency else None, version["version"] if version else envelope
        )
    if chosen == "text":
        lines = read_agency_lines(split_blocks(content[:_HEAD_CHARS]), Control(), utc_now())
        return Sniffed(lines.urgency, envelope)
    return Sniffed(version=envelope)


def in_fast_lane(record: bytes) -> bool:
    """Whether the raw record goes through the fast lane: a flash or bulletin, and its
    story's first version. A later version stays in the routine lane, behind the versions
    before it that may still be queued there: a story's versions never overtake each other."""
    found = sniff(record)
    numbers = version_numbers(found.version)
    first = numbers is None or numbers <= (1,)
    return found.urgency is not None and 1 <= found.urgency <= FAST_LANE_URGENCY and first


def publish_in_fast_lane(decision: Decision) -> bool:
    """Whether a fast-lane item stays in the fast lane to publishing: a new story does; a
    version of a known story joins the routine lane, behind that story's earlier versions,
    which may still be queued there (publishing never lets an older version overtake a newer
    one, so it would become a stale notice instead)."""
    return decision.status == "new"
