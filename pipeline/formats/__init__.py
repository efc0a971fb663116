"""Parsers that turn each wire format into a ``ParsedDocument``: blocks of text plus metadata.

The parsers only read their format; the wire-specific cleaning that every format shares
(ad markers, captions, datelines, navigation) happens afterwards in ``pipeline.clean``.
"""

from __future__ import annotations

from collections.abc import Callable

from pipeline.formats.document import ParsedDocument
from pipeline.formats.html import parse_html
from pipeline.formats.ninjs import parse_ninjs
from pipeline.formats.text import parse_text
from pipeline.records import Rejected

__all__ = ["ParsedDocument", "detect_format", "parse_document"]

_PARSERS: dict[str, Callable[[str], ParsedDocument]] = {
    "text": parse_text,
    "html": parse_html,
    "ninjs": parse_ninjs,
}


def detect_format(content: str) -> str:
    """Guess the format of a document from its first characters and root element."""
    head = content.lstrip("\ufeff \t\r\n")[:2048]
    lowered = head.lower()
    if head.startswith("{"):
        return "ninjs"
    if head.startswith("<"):
        if "<newsitem" in lowered or "<newsmessage" in lowered:
            return "newsml"
        if "<rss" in lowered or "<feed" in lowered or "<rdf:rdf" in lowered:
            return "rss"
        return "html"
    return "text"


def parse_document(content: str, format: str) -> ParsedDocument:
    """Read ``content`` as ``format`` (``auto`` detects it)."""
    chosen = detect_format(content) if format == "auto" else format
    parser = _PARSERS.get(chosen)
    if parser is None:
        raise Rejected("clean", f"the {chosen} format is not supported yet")
    return parser(content)
