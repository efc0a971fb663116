"""Paragraphs out of the markup fragments that formats embed (HTML bodies, plain text)."""

from __future__ import annotations

import lxml.html
from lxml import etree

_BLOCK_TAGS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre")


def html_blocks(markup: str) -> list[str]:
    """The paragraphs of an HTML body fragment, in order."""
    try:
        root = lxml.html.fromstring(markup)
    except (etree.ParserError, ValueError):
        return []
    blocks = [" ".join(el.text_content().split()) for el in root.iter(*_BLOCK_TAGS)]
    blocks = [block for block in blocks if block]
    return blocks or text_lines(root.text_content())


def text_lines(text: str) -> list[str]:
    """A ninjs plain-text body: one paragraph per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]
