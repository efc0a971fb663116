"""IPTC NewsML 1.x, the format of AFP, ANP, ANSA, Belga, Kyodo, ANA-MPE and others: a
``NewsML`` envelope of ``NewsItem``s, each with its identification, management (status,
urgency, times) and a tree of ``NewsComponent``s whose ``NewsLines`` hold the headline,
by-line and dateline and whose text ``ContentItem`` carries the story as NITF, XHTML, HTML
in CDATA or plain text. Element names are matched without their namespace.

A NewsML document with several items is split into one raw item per ``NewsItem`` at the door,
as a NewsML-G2 ``newsMessage`` is. A closing "©" paragraph is the rights notice, not text.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from pipeline.control import read_pub_status
from pipeline.formats.document import ParsedDocument
from pipeline.formats.markup import html_blocks, text_lines
from pipeline.formats.newsml import nitf_blocks_of
from pipeline.formats.xml import local_name, parse_xml, text_of
from pipeline.records import Control, Rejected, normalise_timestamp

_COMPACT_TIME = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)(Z|[+-]\d\d:?\d\d)?")
_COPYRIGHT = re.compile(r"\s*(?:©|\(c\)|copyright\b)", re.I)


def is_newsml1(content: str) -> bool:
    """NewsML 1.x names its elements in capitals (``NewsML``, ``NewsItem``); G2's are
    ``newsMessage`` and ``newsItem``."""
    return bool(re.search(r"<(?:\w+:)?(?:NewsML|NewsItem)\b", content[:4096]))


def split_newsml1(content: str) -> list[tuple[str, str | None]]:
    root = parse_xml(content)
    items = [el for el in root.iter() if local_name(el) == "NewsItem"]
    if len(items) <= 1:
        return [(content, _guid(items[0]) if items else None)]
    return [(etree.tostring(item, encoding="unicode"), _guid(item)) for item in items]


def parse_newsml1(content: str) -> ParsedDocument:
    root = parse_xml(content)
    item = root if local_name(root) == "NewsItem" else _find(root, "NewsItem")
    if item is None:
        raise Rejected("clean", "a NewsML document without a NewsItem", code="no-text")
    lines = _find(item, "NewsLines")
    blocks = _text_blocks(item)
    rights: list[str] = []
    while blocks and _COPYRIGHT.match(blocks[-1]):
        rights.insert(0, blocks.pop())
    metadata = {
        "guid": _guid(item),
        "version": _text(_find(item, "RevisionId")),
        "subheadline": _text(_find(lines, "SubHeadLine")),
        "byline": _byline(_text(_find(lines, "ByLine"))),
        "slugline": _text(_find(lines, "SlugLine")),
        "language": _formal(_find(item, "Language")) or _lang(item),
        "urgency": _urgency(_formal(_find(item, "Urgency"))),
        "created": _time(_text(_find(item, "FirstCreated"))),
        "updated": _time(_text(_find(item, "ThisRevisionCreated"))),
        "control": _control(item, lines, rights),
    }
    return ParsedDocument(
        blocks=blocks,
        headline=_text(_find(lines, "HeadLine")),
        metadata={k: v for k, v in metadata.items() if v not in (None, "")},
        dateline_text=_text(_find(lines, "DateLine")),
    )


def _find(parent: Any | None, name: str) -> Any | None:
    if parent is None:
        return None
    return next((el for el in parent.iter() if local_name(el) == name), None)


def _text(element: Any | None) -> str | None:
    found = text_of(element)
    return " ".join(found.split()) if found else None


def _formal(element: Any | None) -> str | None:
    value = element.get("FormalName") if element is not None else None
    return str(value) if value is not None else None


def _lang(item: Any) -> str | None:
    value = item.get("{http://www.w3.org/XML/1998/namespace}lang")
    return str(value) if value else None


def _guid(item: Any) -> str | None:
    public = _text(_find(item, "PublicIdentifier"))
    return public or _text(_find(item, "NewsItemId"))


def _byline(text: str | None) -> str | None:
    return re.sub(r"^By\s+", "", text).strip() if text else None


def _urgency(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and 1 <= int(value) <= 9 else None


def _time(text: str | None) -> str | None:
    """NewsML 1's compact ISO 8601 ("20140829T134951+0000") as RFC 3339."""
    found = _COMPACT_TIME.fullmatch(text or "")
    if found is None:
        return normalise_timestamp(text)
    year, month, day, hour, minute, second, zone = found.groups()
    zone = "Z" if zone in (None, "Z") else f"{zone[:3]}:{zone[-2:]}"
    return normalise_timestamp(f"{year}-{month}-{day}T{hour}:{minute}:{second}{zone}")


def _control(item: Any, lines: Any | None, rights: list[str]) -> Control:
    status, embargoed = read_pub_status(_formal(_find(item, "Status")))
    notice = _text(_find(lines, "CopyrightLine")) or " ".join(rights) or None
    return Control(pub_status=status, embargoed=embargoed, copyright_notice=notice)


def _text_blocks(item: Any) -> list[str]:
    """The paragraphs of the item's text content: the main component's where roles are
    given, else the first text content item's."""
    items = [el for el in item.iter() if local_name(el) == "ContentItem"]
    texts = [el for el in items if (_formal(_find(el, "MediaType")) or "Text").lower() == "text"]
    for content_item in sorted(texts, key=lambda el: not _in_main(el)):
        data = _find(content_item, "DataContent")
        if data is not None and (blocks := _data_blocks(data)):
            return blocks
    return []


def _in_main(content_item: Any) -> bool:
    component = content_item.getparent()
    role = _find(component, "Role") if component is not None else None
    return (_formal(role) or "").lower() == "main"


def _data_blocks(data: Any) -> list[str]:
    """NITF or XHTML inside ``DataContent``, else its text as HTML or plain lines."""
    children = list(data)
    if children:
        blocks = nitf_blocks_of(data)
        if blocks:
            return blocks
        return [text for child in children if (text := _text(child))]
    text = data.text or ""
    return html_blocks(text) if "<" in text else text_lines(text)
