"""HTML news pages: main text by trafilatura, metadata from the page's own meta tags.

The page is parsed once (trafilatura's lxml loader). The metadata comes from the standard tags
publishers fill (Open Graph, article:*, itemprop, ``<title>``), which costs far less than
trafilatura's own metadata pass with its date guessing; trafilatura then extracts the main
text from the same tree.
"""

from __future__ import annotations

from typing import Any

import trafilatura
from trafilatura.settings import Document
from trafilatura.utils import load_html

from pipeline.formats.document import ParsedDocument
from pipeline.records import Rejected

_TITLE = (
    "//meta[@property='og:title']/@content",
    "//meta[@name='twitter:title']/@content",
    "//h1",
    "//title",
)
_AUTHOR = (
    "//meta[@name='author']/@content",
    "//meta[@property='article:author']/@content",
    "//*[@itemprop='author']//*[@itemprop='name']",
    "//*[@rel='author']",
)
_PUBLISHED = (
    "//meta[@property='article:published_time']/@content",
    "//*[@itemprop='datePublished']/@content",
    "//time[@itemprop='datePublished']/@datetime",
    "//meta[@name='pubdate']/@content",
)
_MODIFIED = (
    "//meta[@property='article:modified_time']/@content",
    "//*[@itemprop='dateModified']/@content",
)


def _first(tree: Any, paths: tuple[str, ...]) -> str | None:
    for path in paths:
        for found in tree.xpath(path):
            text = found if isinstance(found, str) else found.text_content()
            text = " ".join(str(text).split())
            if text and not text.startswith("http"):
                return text
    return None


def page_metadata(tree: Any) -> tuple[str | None, dict[str, Any]]:
    """The headline and the ``Article`` fields a page's meta tags carry."""
    language = tree.get("lang") if tree.tag == "html" else None
    fields = {
        "byline": _first(tree, _AUTHOR),
        "created": _first(tree, _PUBLISHED),
        "updated": _first(tree, _MODIFIED),
        "language": language.strip() if language else None,
    }
    return _first(tree, _TITLE), {k: v for k, v in fields.items() if v}


def parse_html(content: str) -> ParsedDocument:
    tree = load_html(content)
    if tree is None:
        raise Rejected("clean", "unreadable HTML", code="malformed")
    headline, metadata = page_metadata(tree)
    extracted = trafilatura.bare_extraction(
        tree,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
        deduplicate=False,
    )
    if not isinstance(extracted, Document) or not extracted.text:
        raise Rejected("clean", "no article text found in the HTML page", code="no-text")
    return ParsedDocument(
        blocks=[line for line in extracted.text.splitlines() if line.strip()],
        headline=headline,
        metadata=metadata,
    )
