"""HTML news pages: main text by trafilatura, metadata from the page's own meta tags.

The page is parsed once (trafilatura's lxml loader). The metadata comes from the standard tags
publishers fill (Open Graph, article:*, itemprop, ``<title>``), which costs far less than
trafilatura's own metadata pass with its date guessing; trafilatura then extracts the main
text from the same tree.

The main text is read in trafilatura's precision mode, which leaves out most related links and
prompts. Where that reading is short, the page is read again in the balanced mode (without the
fall-back extractors, for speed), and the
balanced reading wins when the precise one lost the article: it holds under a fifth of the
balanced text (a reprint notice, one caption), or under three fifths with most of what it left
out lying between passages both readings keep (posts or paragraphs cut from the middle, not
links around the story). The story records which reading won.
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
_SUMMARY = (
    "//meta[@property='og:description']/@content",
    "//meta[@name='description']/@content",
    "//meta[@name='twitter:description']/@content",
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
        "summary": _first(tree, _SUMMARY),
    }
    return _first(tree, _TITLE), {k: v for k, v in fields.items() if v}


_SHORT_READING_CHARS = 3000
"""A precise reading shorter than this is checked against the balanced one."""
_LOST_SHARE = 0.2
"""A precise reading under this share of the balanced one lost the article."""
_CUT_SHARE = 0.6
"""A precise reading under this share of the balanced one, missing mostly inner passages, lost
part of the article."""


def _reading(tree: Any, *, precise: bool) -> str:
    """The precise reading compares trafilatura's own extraction with its fall-backs; the
    balanced one, a check on it, skips them (``fast``) to keep the second reading cheap."""
    extracted = trafilatura.bare_extraction(
        tree,
        favor_precision=precise,
        fast=not precise,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
        deduplicate=False,
    )
    return (extracted.text or "") if isinstance(extracted, Document) else ""


def _share_left_out_inside(precise: str, balanced: str) -> float:
    """Of the balanced reading's lines the precise one left out, the share (in characters) that
    lies between the first and the last line both readings keep."""
    kept = {line.strip() for line in precise.splitlines()}
    lines = [line.strip() for line in balanced.splitlines() if line.strip()]
    shared = [index for index, line in enumerate(lines) if line in kept]
    left_out = [(index, line) for index, line in enumerate(lines) if line not in kept]
    total = sum(len(line) for _, line in left_out)
    if not shared or not total:
        return 0.0
    inside = sum(len(line) for index, line in left_out if shared[0] < index < shared[-1])
    return inside / total


def read_main_text(tree: Any) -> tuple[str, str]:
    """The page's main text and the reading it came from ("precision" or "balanced")."""
    text = _reading(tree, precise=True)
    if len(text) < _SHORT_READING_CHARS:
        balanced = _reading(tree, precise=False)
        if len(text) < _LOST_SHARE * len(balanced) or (
            len(text) < _CUT_SHARE * len(balanced) and _share_left_out_inside(text, balanced) > 0.5
        ):
            return balanced, "balanced"
    return text, "precision"


def parse_html(content: str) -> ParsedDocument:
    tree = load_html(content)
    if tree is None:
        raise Rejected("clean", "unreadable HTML", code="malformed")
    headline, metadata = page_metadata(tree)
    text, reading = read_main_text(tree)
    if not text:
        raise Rejected("clean", "no article text found in the HTML page", code="no-text")
    return ParsedDocument(
        blocks=[line for line in text.splitlines() if line.strip()],
        headline=headline,
        metadata={**metadata, "extraction": reading},
    )
