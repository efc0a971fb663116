"""Paragraphs out of the markup fragments that formats embed (HTML bodies, plain text)."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
from lxml import etree

_LEAF_BLOCKS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "pre", "dt", "dd", "blockquote"}
)
_CONTAINERS = frozenset(
    {"div", "section", "article", "main", "header", "footer", "aside", "ul", "ol", "dl"}
    | {"table", "thead", "tbody", "tfoot", "address", "body", "html"}
)
_BLOCKS = _LEAF_BLOCKS | _CONTAINERS | {"tr"}
_LOOSE_TEXT_KEPT = _LEAF_BLOCKS | {"body", "article", "section", "main"}
"""Elements whose text outside the blocks they hold is body text ("<li>Item<ul>…</ul></li>").
In a "div" it is as often the agency's furniture ("<div class=dat><span>Försvar</span>
<span>TT</span></div>")."""
_NOT_TEXT = frozenset(
    {"head", "title", "script", "style", "noscript", "template", "figure", "figcaption"}
)
_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
"""A line break, followed by a new line in the text: outside blocks, each line is a
paragraph."""


def html_blocks(markup: str) -> list[str]:
    """The paragraphs of an HTML body fragment, in order: each block element's text, and the
    text between blocks too, a paragraph per line as in a plain-text body (a WordPress post is
    stored so, its paragraphs made at display). Captions, scripts and styles are no body."""
    try:
        root = lxml.html.fromstring(_LINE_BREAK.sub("<br>\n", markup))
    except (etree.ParserError, ValueError):
        return []
    if not any(_tag(el) in _BLOCKS or _tag(el) == "br" for el in root.iter()):
        return text_lines(root.text_content())
    reader = _BlockReader(root)
    reader.read(root)
    reader.flush()
    return reader.blocks


def text_lines(text: str) -> list[str]:
    """A ninjs plain-text body: one paragraph per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _tag(element: Any) -> str | None:
    """An element's tag; None for comments and processing instructions."""
    return element.tag.lower() if isinstance(element.tag, str) else None


def _holds_blocks(element: Any) -> bool:
    return any(_tag(el) in _BLOCKS for el in element.iterdescendants())


class _BlockReader:
    """Walks a fragment in document order: each block a paragraph, and the loose text of the
    fragment itself and of the containers that hold body text, a paragraph per line."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.blocks: list[str] = []
        self._run: list[str] = []
        self._loose = True

    def read(self, element: Any) -> None:
        tag = _tag(element)
        if tag in _NOT_TEXT or tag is None:
            return
        if tag == "tr":
            self._block(" ".join(cell.text_content() for cell in element if _tag(cell)))
        elif tag in _CONTAINERS or element is self.root or _holds_blocks(element):
            self._container(element, tag in _BLOCKS)
        elif tag in _LEAF_BLOCKS:
            self._block(element.text_content())
        elif self._loose:  # inline: "<strong>...</strong>", "<a>...</a>"
            self._run.append(element.text_content())

    def _container(self, element: Any, is_block: bool) -> None:
        if is_block:
            self.flush()
        outer = self._loose
        self._loose = element is self.root or _tag(element) in _LOOSE_TEXT_KEPT
        self._loose_text(element.text)
        for child in element:
            self.read(child)
            self._loose_text(child.tail)
        self._loose = outer
        if is_block:
            self.flush()

    def _loose_text(self, text: str | None) -> None:
        if self._loose and text:
            self._run.append(text)

    def _block(self, text: str) -> None:
        self.flush()
        self._keep(text)

    def flush(self) -> None:
        for line in "".join(self._run).splitlines():
            self._keep(line)
        self._run.clear()

    def _keep(self, text: str) -> None:
        if paragraph := " ".join(text.split()):
            self.blocks.append(paragraph)
