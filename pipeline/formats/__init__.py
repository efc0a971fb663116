"""Parsers that turn each wire format into a ``ParsedDocument``: blocks of text plus metadata.

The parsers only read their format; the wire-specific cleaning that every format shares
(ad markers, captions, datelines, navigation) happens afterwards in ``pipeline.clean``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipeline.formats.anpa import parse_anpa
from pipeline.formats.document import ParsedDocument
from pipeline.formats.feed import parse_feed, split_feed
from pipeline.formats.framing import framed_format
from pipeline.formats.html import parse_html
from pipeline.formats.iptc7901 import parse_iptc7901
from pipeline.formats.mail import is_email, parse_email, split_email
from pipeline.formats.newsml import parse_newsml, split_news_message
from pipeline.formats.newsml1 import is_newsml1, parse_newsml1, split_newsml1
from pipeline.formats.ninjs import parse_ninjs, split_ninjs
from pipeline.formats.ritzau import ROOT as RITZAU_ROOT
from pipeline.formats.ritzau import parse_ritzau
from pipeline.formats.text import parse_text
from pipeline.formats.xml import refuse_unknown_xml, root_element
from pipeline.records import Rejected

__all__ = ["ParsedDocument", "detect_format", "parse_document", "split_document"]

_SPLITTERS: dict[str, Callable[[str], list[tuple[str, str | None]]]] = {
    "rss": split_feed,
    "newsml": split_news_message,
    "newsml1": split_newsml1,
    "email": split_email,
    "ninjs": split_ninjs,
}
_PARSERS: dict[str, Callable[[str], ParsedDocument]] = {
    "text": parse_text,
    "html": parse_html,
    "ninjs": parse_ninjs,
    "newsml": parse_newsml,
    "rss": parse_feed,
    "anpa": parse_anpa,
    "iptc7901": parse_iptc7901,
    "newsml1": parse_newsml1,
    "email": parse_email,
    "ritzau": parse_ritzau,
    "xml": refuse_unknown_xml,
}


# HTML's elements: a document opening with one of them (or a doctype) is a page or a fragment
# of one; any other root names an XML vocabulary.
_HTML_ELEMENT_NAMES = """html head body title meta link base style script noscript template main
article section nav aside header footer address h1 h2 h3 h4 h5 h6 hgroup p hr pre blockquote
ol ul li dl dt dd figure figcaption div a em strong small s cite q dfn abbr data time code var
samp kbd sub sup i b u mark ruby bdi bdo span br wbr ins del picture img iframe embed object
video audio source track map area table caption colgroup col tbody thead tfoot tr td th form
label input button select datalist optgroup option textarea output progress meter fieldset
legend details summary dialog svg math center font big tt strike frameset frame"""
_HTML_ELEMENTS = frozenset(_HTML_ELEMENT_NAMES.split())

# Root and top elements of NewsML-G2 and NITF, with or without a namespace prefix.
_NEWSML_TAGS = re.compile(
    r"<(?:[\w.-]+:)?(?:newsitem|newsmessage|nitf|contentset|contentmeta|itemmeta)\b"
)


def detect_format(content: str) -> str:
    """Guess the format of a document from its first characters and root element."""
    head = content.lstrip("\ufeff \t\r\n")[:2048]
    if framed := framed_format(head):
        return framed
    if is_email(head):
        return "email"
    lowered = head.lower()
    if head.startswith("{"):
        return "ninjs"
    if head.startswith("<"):
        if is_newsml1(head):
            return "newsml1"
        if _NEWSML_TAGS.search(lowered):
            return "newsml"
        if "<rss" in lowered or "<feed" in lowered or "<rdf:rdf" in lowered:
            return "rss"
        return _markup_format(head)
    return "text"


def _markup_format(head: str) -> str:
    """HTML, Ritzau's XML, or XML of a vocabulary Newswire does not read."""
    if "<!doctype html" in head.lower():
        return "html"
    name = (root_element(head) or "html").rpartition(":")[2]
    if name == RITZAU_ROOT:
        return "ritzau"
    return "html" if name.lower() in _HTML_ELEMENTS else "xml"


def parse_document(content: str, format: str) -> ParsedDocument:
    """Read ``content`` as ``format`` (``auto`` detects it)."""
    chosen = detect_format(content) if format == "auto" else format
    parser = _PARSERS.get(chosen)
    if parser is None:
        raise Rejected("clean", f"the {chosen} format is not supported yet", code="unsupported")
    return parser(content)


MAX_STORIES_PER_DOCUMENT = 1000
"""The most stories one document may carry: a busy wire's feed holds a few hundred."""


def split_document(content: str, format: str) -> tuple[str, list[tuple[str, str | None]]]:
    """The format and the stories of a document: a feed gives one per entry, a newsMessage
    one per newsItem, a feed of ninjs items one per item, anything else itself. A document
    that cannot be split (or has nothing to split) stays whole, so the clean stage rejects it
    with its reason and nothing is lost at the door."""
    chosen = detect_format(content) if format == "auto" else format
    splitter = _SPLITTERS.get(chosen)
    if splitter is None:
        return format, [(content, None)]
    try:
        parts = splitter(content)
    except Rejected:
        return format, [(content, None)]
    if len(parts) > MAX_STORIES_PER_DOCUMENT:
        raise Rejected(
            "decode",
            f"a document of {len(parts)} stories, "
            f"over {MAX_STORIES_PER_DOCUMENT}: send it in parts",
            code="too-large",
        )
    return (chosen, parts) if parts else (format, [(content, None)])
