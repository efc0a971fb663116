"""The clean stage: from a raw document in any format to an ``Article`` an editor would accept.

Format parsers (``pipeline.formats``) read the document into text blocks; the rules here are
the wire-specific cleaning every format shares. Every removal rule matches a *whole block* (or
a credit at the very end of one), so a real sentence that merely contains the same words stays.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

from pipeline.dateline import parse_date_only_line, parse_dateline
from pipeline.formats import parse_document
from pipeline.records import Article, Dateline, Image, RawItem, Rejected

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")

_BOILERPLATE = re.compile(
    r"(?:advertisements?|ad|sponsored(?: content)?|skip advertisement"
    r"|story continues below(?: this)? advertisement|continue reading(?: below)?"
    r"|scroll to continue(?: with content)?|latest headlines|top stories|trending(?: now)?"
    r"|read more(?::\s.{0,80})?|related(?: articles| stories| coverage| content| links)?"
    r"|more stories|share this(?: article| story)?|share(?: on \w+)?|tweet|email|print"
    r"|click here to .{1,80}|follow us on .{1,60}"
    r"|(?:sign up|subscribe)(?: now)? (?:for|to) (?:our|the) .{0,60}newsletters?.{0,80}"
    r"|(?:we use cookies|this (?:web)?site uses cookies).{0,200}|accept(?: all)? cookies"
    r"|(?:©|\(c\)|copyright)\s*(?:\d{4}).{0,150}|all rights reserved)",
    re.IGNORECASE,
)
_TRAILING_PUNCTUATION = " .:!|»›>-–—"
_CREDIT = re.compile(
    r"(?:^|(?<=[.!?\"'”’]\s))(?P<credit>(?:File |AP |Reuters |UPI |EPA )?"
    r"(?:[Pp]hoto|[Ii]mage|[Pp]icture)(?:graph)?s?\s+(?:by|courtesy of)\s+"
    r"[A-Z][\w.'\-]*(?:[ /][A-Z][\w.'\-]*){0,6})\.?$"
)
_BYLINE = re.compile(r"^By\s+(?P<name>[A-Z][^.!?]{1,100})$")
_SENTENCE_END = tuple(".!?\"'”’)]…")
_MAX_HEADLINE_CHARS = 200
_MAX_HEADLINE_WORDS = 30


def normalise_text(text: str) -> str:
    """Fix mojibake and entities, drop invisible characters, collapse spaces within a line."""
    text = ftfy.fix_text(text, normalization="NFC").translate(_INVISIBLE)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.splitlines()).strip()


def is_boilerplate(block: str) -> bool:
    """A block that is only an ad marker, a navigation or widget label, or a copyright line."""
    return _BOILERPLATE.fullmatch(block.strip(_TRAILING_PUNCTUATION)) is not None


def split_caption(block: str) -> Image | None:
    """A block ending with a photo credit is a caption: returns it as an image, else None."""
    match = _CREDIT.search(block)
    if match is None:
        return None
    return Image(caption=block[: match.start()].strip(), credit=match["credit"].rstrip("."))


def looks_like_headline(block: str) -> bool:
    words = len(block.split())
    return (
        len(block) <= _MAX_HEADLINE_CHARS
        and 0 < words <= _MAX_HEADLINE_WORDS
        and not block.endswith(".")
    )


def _first_sentence(paragraph: str) -> str:
    match = re.match(r"(.+?[.!?])(?:\s|$)", paragraph)
    sentence = match.group(1) if match else paragraph
    words = sentence.split()
    return " ".join(words[:_MAX_HEADLINE_WORDS]) + ("…" if len(words) > _MAX_HEADLINE_WORDS else "")


def _drop_trailing_navigation(blocks: list[str]) -> list[str]:
    """Short blocks after the last sentence are navigation, not story."""
    end = len(blocks)
    while end > 0 and len(blocks[end - 1]) < 100 and not blocks[end - 1].endswith(_SENTENCE_END):
        end -= 1
    return blocks[:end]


def clean(item: RawItem) -> Article:
    """Turn a raw item into an article, or raise ``Rejected`` saying why it cannot be one."""
    if not item.content.strip():
        raise Rejected("clean", "the document is empty")
    document = parse_document(item.content, item.format)
    headline = normalise_text(document.headline) if document.headline else None
    images = list(document.images)
    blocks: list[str] = []
    seen: set[str] = set()
    for raw_block in document.blocks:
        block = normalise_text(raw_block).replace("\n", " ")
        if not block or is_boilerplate(block) or block in seen or block == headline:
            continue
        seen.add(block)
        caption = split_caption(block)
        if caption is not None:
            if caption.caption and caption.caption not in {i.caption for i in images}:
                images.append(caption)
            continue
        blocks.append(block)
    blocks = _drop_trailing_navigation(blocks)

    if headline is None and blocks and looks_like_headline(blocks[0]) and len(blocks) > 1:
        headline = blocks.pop(0)
    metadata = dict(document.metadata)
    if blocks and "byline" not in metadata and (byline := _BYLINE.match(blocks[0])):
        metadata["byline"] = byline["name"].strip()
        blocks.pop(0)

    dateline: Dateline | None = None
    if blocks and (day := parse_date_only_line(blocks[0])) is not None:
        dateline = Dateline(text=blocks.pop(0), date=day)
    elif blocks and (found := parse_dateline(blocks[0], item.received)) is not None:
        dateline, blocks[0] = found

    if not blocks:
        raise Rejected("clean", "no story text found")
    if not headline:
        headline = _first_sentence(blocks[0])
    metadata.setdefault("agency", dateline.agency if dateline else None)
    if dateline and dateline.place:
        metadata.setdefault("located", dateline.place)
    return Article(
        headline=headline,
        paragraphs=blocks,
        dateline=dateline,
        images=[image for image in images if image.caption],
        **metadata,
    )
