"""Safe XML parsing for wire formats: no entity expansion, no DTD loading, no network."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from pipeline.records import Rejected

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def safe_parser() -> etree.XMLParser:
    """A parser that refuses what hostile XML uses: entity expansion (billion laughs),
    external entities and DTDs (XXE), network access and huge trees."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(content: str) -> Any:
    """The root element of an XML document given as text, or ``Rejected`` saying why not."""
    try:
        return etree.fromstring(_DECLARATION.sub("", content, count=1), safe_parser())
    except etree.XMLSyntaxError as error:
        raise Rejected("clean", f"malformed XML: {error}", code="malformed") from None


def local_name(element: Any) -> str:
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def text_of(element: Any | None) -> str | None:
    """An element's text with whitespace collapsed, or None when it has none."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None
