"""The common shape every format parser produces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.records import Image


@dataclass
class ParsedDocument:
    """A document read from its format, before wire cleaning.

    ``blocks`` are text blocks in reading order. Where the format marks the headline it is in
    ``headline`` and not among the blocks; ``metadata`` holds ``Article`` fields the format
    carries (guid, version, byline, urgency, ...).
    """

    blocks: list[str]
    headline: str | None = None
    images: list[Image] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    dateline_text: str | None = None
    """A dateline the format carries apart from the body (NewsML-G2, NITF)."""
    agency_copy: bool = False
    """Plain wire copy (text, feed entries): its control is in agency lines above the story."""
