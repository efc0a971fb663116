"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds: one raw item per entry.

``split_feed`` cuts a feed into single-entry feeds at ingest, keeping the channel around each
entry, so that every entry travels (and is deduplicated, versioned, rejected) on its own;
``parse_feed`` reads such a single-entry feed with feedparser; two dialects by their own
rules: WordPress's export (WXR) and WENN's Atom.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime
from typing import Any

import feedparser
from lxml import etree

from pipeline.formats.document import ParsedDocument
from pipeline.formats.markup import html_blocks, text_lines
from pipeline.formats.xml import local_name, parse_xml, text_of
from pipeline.records import Control, Rejected, rfc3339

_ENTRY_TAGS = {"item", "entry"}
WXR_NAMESPACE = "http://wordpress.org/export/"
"""WordPress's export (WXR): an RSS feed whose content is the post as stored, shortcodes
and all."""
# WordPress's own shortcodes that hold media or a caption, never the post's text, removed
# with what they enclose; any other shortcode's tags go and its text stays ("[dropcap]M
# [/dropcap]ysterium"). Shortcode names are lower-case words; "[Reuters]" is no shortcode.
_MEDIA_SHORTCODE = re.compile(
    r"\[(caption|wp_caption|embed|video|audio|gallery|playlist)\b[^\]]*\].*?\[/\1\]", re.S
)
_SHORTCODE_TAG = re.compile(r"\[/?[a-z][a-z0-9_-]*(?:\s[^\]]*)?/?\]")
WENN_CONTENT = "{http://feed.wenn.com/xmlns/2010/03/wenn_cm}"
"""WENN's Atom dialect: the story is in its content metadata (``first_line``, ``body``);
``atom:content`` is not the story, and ``slug`` is a routing code."""


def _entries(root: Any) -> list[Any]:
    """The feed's entries, outermost only (an entry inside an entry goes with it)."""
    found = [el for el in root.iter() if local_name(el) in _ENTRY_TAGS]
    inside = {id(el) for entry in found for el in entry.iterdescendants()}
    return [entry for entry in found if id(entry) not in inside]


def _entry_guid(entry: Any) -> str | None:
    for child in entry:
        if local_name(child) in ("guid", "id"):
            return text_of(child)
    for child in entry:
        if local_name(child) == "link":
            return child.get("href") or text_of(child)
    return None


def split_feed(content: str) -> list[tuple[str, str | None]]:
    """Each entry as a feed of its own, with its guid (RSS guid or link, Atom id). The
    channel is kept once with its entries taken out, and each entry put back in its place in
    turn: linear in the entries, never a copy of the whole feed per entry."""
    root = parse_xml(content)
    entries = _entries(root)
    places = []
    taken: dict[Any, int] = {}
    for entry in entries:
        parent = entry.getparent()
        places.append((parent, parent.index(entry) - taken.get(parent, 0)))
        taken[parent] = taken.get(parent, 0) + 1
    for entry in entries:
        entry.getparent().remove(entry)
    documents = []
    for entry, (parent, position) in zip(entries, places, strict=True):
        parent.insert(position, entry)
        documents.append((etree.tostring(root, encoding="unicode"), _entry_guid(entry)))
        parent.remove(entry)
    return documents


def _time(entry: Any, key: str) -> str | None:
    parsed = entry.get(f"{key}_parsed")
    if not parsed:
        return None
    return rfc3339(datetime.fromtimestamp(calendar.timegm(parsed), UTC))


def without_shortcodes(post: str) -> str:
    """A WordPress post's text without its shortcodes (rendered by plug-ins, never text)."""
    return _SHORTCODE_TAG.sub("", _MEDIA_SHORTCODE.sub("", post))


def _body(entry: Any, wordpress: bool) -> list[str]:
    """Full text where the entry carries it (content), else its summary."""
    for part in [*entry.get("content", []), entry.get("summary_detail") or {}]:
        value = part.get("value") if isinstance(part, dict) else None
        if value:
            value = without_shortcodes(value) if wordpress else value
            html = "html" in part.get("type", "text/html")
            return html_blocks(value) if html else text_lines(value)
    return []


def _is_wxr(feed: Any) -> bool:
    return any(uri.startswith(WXR_NAMESPACE) for uri in feed.get("namespaces", {}).values())


def _wenn_story(root: Any) -> list[str]:
    """The paragraphs of a WENN entry's story: its first line, then its body."""
    parts = [root.find(f".//{WENN_CONTENT}{name}") for name in ("first_line", "body")]
    return [
        line for part in parts if part is not None for line in text_lines("".join(part.itertext()))
    ]


def _wordpress_field(root: Any, name: str) -> str | None:
    """A ``wp:`` field of the entry (in any WXR version's namespace)."""
    for element in root.iter(f"{{*}}{name}"):
        if (etree.QName(element).namespace or "").startswith(WXR_NAMESPACE):
            return text_of(element)
    return None


def _refuse_unpublished_post(root: Any) -> None:
    """A WordPress export holds attachments, pages and drafts beside its posts: only a post
    WordPress published is a story; the others are refused with what they are."""
    kind = _wordpress_field(root, "post_type") or "post"
    status = _wordpress_field(root, "status") or "publish"
    if kind != "post" or status != "publish":
        raise Rejected(
            "clean", f"a WordPress {kind} with status {status!r}, not a published post", "no-text"
        )


def parse_feed(content: str) -> ParsedDocument:
    root = parse_xml(content)  # the same hardened parser decides whether it is well-formed
    feed = feedparser.parse(content, sanitize_html=True, resolve_relative_uris=False)
    entries = feed.get("entries", [])
    if len(entries) != 1:
        raise Rejected(
            "clean",
            f"a feed with {len(entries)} entries: ingest it to split it into entries",
            code="unsplit",
        )
    entry = entries[0]
    wordpress = _is_wxr(feed)
    if wordpress:
        _refuse_unpublished_post(root)
    tags = [tag.get("term") for tag in entry.get("tags", []) if tag.get("term")]
    metadata: dict[str, Any] = {
        "guid": entry.get("id") or entry.get("link"),
        "byline": entry.get("author"),
        "created": _time(entry, "published") or _time(entry, "updated"),
        "updated": _time(entry, "updated"),
        "language": feed.get("feed", {}).get("language"),
        "subjects": [{"name": tag} for tag in tags],
        "control": Control(copyright_notice=rights)
        if (rights := entry.get("rights") or feed.get("feed", {}).get("rights"))
        else None,
    }
    return ParsedDocument(
        blocks=_wenn_story(root) or _body(entry, wordpress),
        headline=entry.get("title"),
        metadata={k: v for k, v in metadata.items() if v not in (None, [])},
        agency_copy=True,
    )
