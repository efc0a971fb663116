"""Ritzau's XML (``<RBNews>``), the Danish agency's own format.

The story is ``content`` (HTML, escaped), its headline ``headline`` (often empty on a flash:
the story's first sentence stands in), ``subtitle``, and ``town`` where it was written.
``strapline`` is a routing line ("NU/FLASH-U"), and the author's e-mail and telephone are
contact details: neither is ever published. ``TilRedaktionen`` ("to the editors") is a
note, ``Annuleret`` a kill and ``PublishDate`` local time in Copenhagen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.formats.document import ParsedDocument
from pipeline.formats.markup import html_blocks
from pipeline.formats.xml import local_name, parse_xml, text_of
from pipeline.records import Control, rfc3339

ROOT = "RBNews"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")
SIGNALS = {"Korrektion": "correction", "NyVersion": "update"}
"""Ritzau's flags (true or false) and the ninjs signal each one raises."""


def _fields(root: Any) -> dict[str, str]:
    """The document's fields by name; an element marked nil (``i:nil="true"``) is absent."""
    return {local_name(child): text for child in root if (text := text_of(child))}


def _published(local: str | None) -> str | None:
    """``PublishDate`` (Copenhagen time, no offset) as UTC."""
    try:
        when = datetime.fromisoformat(local or "")
    except ValueError:
        return None
    return rfc3339(when if when.tzinfo else when.replace(tzinfo=COPENHAGEN))


def parse_ritzau(content: str) -> ParsedDocument:
    root = parse_xml(content)
    fields = _fields(root)
    body = "".join(child.text or "" for child in root if local_name(child) == "content")
    flagged = {name for name, value in fields.items() if value.lower() == "true"}
    created = _published(fields.get("PublishDate"))
    metadata: dict[str, Any] = {
        "guid": fields.get("NewsID"),
        "version": fields.get("version"),
        "subheadline": fields.get("subtitle"),
        "located": fields.get("town"),
        "created": created,
        "updated": created,
        "control": Control(
            pub_status="canceled" if "Annuleret" in flagged else "usable",
            ed_note=fields.get("TilRedaktionen"),
            signals=tuple(signal for flag, signal in SIGNALS.items() if flag in flagged),
        ),
    }
    return ParsedDocument(
        blocks=html_blocks(body) if body.strip() else [],
        headline=fields.get("headline"),
        metadata={key: value for key, value in metadata.items() if value is not None},
    )
