"""Safe XML parsing for wire formats: no entity expansion, no DTD loading, no network."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from lxml import etree

from pipeline.records import Rejected

_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ROOT_ELEMENT = re.compile(
    r"^\ufeff?(?:\s*(?:<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>))*\s*<([\w.:-]+)", re.S | re.I
)


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


def root_element(content: str) -> str | None:
    """The name of a document's first element, past its declaration, comments and doctype."""
    found = _ROOT_ELEMENT.match(content)
    return found.group(1) if found else None


def refuse_unknown_xml(content: str) -> NoReturn:
    """XML none of the readers knows: read as a web page it would publish its every field
    (identifiers, routing codes, contact details), so it is refused, naming its root."""
    name = root_element(content) or "?"
    raise Rejected(
        "clean", f"XML of a vocabulary Newswire does not read (root <{name}>)", "unsupported"
    )


def local_name(element: Any) -> str:
    return str(etree.QName(element).localname) if isinstance(element.tag, str) else ""


def text_of(element: Any | None) -> str | None:
    """An element's text with whitespace collapsed, or None when it has none."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None
