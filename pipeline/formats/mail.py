"""E-mail (RFC 822 and MIME), as agencies, PR wires and stringers still deliver copy: read
with the standard ``email`` package, which decodes transfer encodings and declared charsets.

The subject is the headline, the sender's name (never the address) the by-line, ``Date`` the
time sent and ``Message-ID`` the guid. The text is the plain part, else the HTML part; a
plain part that is a web form's JSON (``{"Headline": [...], "Body": [...]}``) is read by its
field names. The envelope (``Received``, ``Delivered-To``, routing and signature headers) is
never story text. An attachment that is itself a news document (NewsML, NITF, ninjs, ANPA,
IPTC 7901) travels on as a raw item of its own (``split_email``).
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any

import orjson

from pipeline.formats.document import ParsedDocument
from pipeline.formats.markup import html_blocks
from pipeline.formats.text import split_blocks
from pipeline.records import Rejected, rfc3339

MAX_PARTS = 200
"""More parts than any message of copy holds: beyond, the message is refused."""
_HEADER_LINE = re.compile(r"([A-Za-z][A-Za-z0-9-]*):[ \t]")
_ENVELOPE_HEADERS = frozenset(
    {
        "from", "to", "subject", "date", "message-id", "received", "mime-version",
        "delivered-to", "return-path", "content-type", "reply-to", "cc",
    }
)  # fmt: skip
_NEWS_DOCUMENT = re.compile(
    r"<(?:\w+:)?(?:newsItem|newsMessage|NewsML|nitf)\b|^\s*\{|^\s*\x16*\x01"
)
_FORM_HEADLINE = ("headline", "title", "subject")
_FORM_BODY = ("body", "story", "text", "content")
_FORM_BYLINE = ("byline", "by", "author")


def is_email(content: str) -> bool:
    """Whether ``content`` opens with an RFC 822 header block: header lines up to the first
    blank line, two or more of them ones every message carries."""
    names = set()
    for line in content.lstrip("\ufeff").splitlines()[:200]:
        if not line.strip():
            break
        if line[:1] in " \t":
            continue  # a folded header line
        found = _HEADER_LINE.match(line)
        if found is None:
            return False
        names.add(found.group(1).lower())
    return len(names & _ENVELOPE_HEADERS) >= 2


def _message(content: str) -> EmailMessage:
    message = email.message_from_string(content, policy=email.policy.default)
    parts = sum(1 for _ in message.walk())
    if parts > MAX_PARTS:
        raise Rejected("clean", f"an e-mail of {parts} parts, over {MAX_PARTS}", code="too-large")
    return message


def split_email(content: str) -> list[tuple[str, str | None]]:
    """The news documents attached to a message, each on its own; else the message."""
    message = _message(content)
    guid = _clean_id(message.get("Message-ID"))
    attached = [
        text
        for part in message.iter_attachments()
        if (text := _part_text(part)) and _NEWS_DOCUMENT.search(text[:2048])
    ]
    if not attached:
        return [(content, guid)]
    return [(text, f"{guid}#{n}" if guid else None) for n, text in enumerate(attached, start=1)]


def parse_email(content: str) -> ParsedDocument:
    message = _message(content)
    text, html = _bodies(message)
    form = _form(text) if text else None
    headline = str(message.get("Subject") or "").strip() or None
    byline = _sender_name(message)
    if form is not None:
        headline = form.get("headline") or headline
        byline = form.get("byline") or byline
        blocks = _blocks_of(form.get("body") or "")
    elif text is not None:
        blocks = split_blocks(text)
    else:
        blocks = html_blocks(html or "")
    metadata = {
        "guid": _clean_id(message.get("Message-ID")),
        "byline": byline,
        "created": _sent(message.get("Date")),
        "slugline": form.get("slugline") if form else None,
    }
    return ParsedDocument(
        blocks=blocks,
        headline=headline,
        metadata={k: v for k, v in metadata.items() if v},
        agency_copy=form is None,
    )


def _bodies(message: EmailMessage) -> tuple[str | None, str | None]:
    """The plain and the HTML text of the message body (not of attachments)."""
    found: dict[str, str] = {}
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is not None and (text := _part_text(part)):
            found[kind] = text
    return found.get("plain"), found.get("html")


def _part_text(part: Any) -> str | None:
    try:
        content = part.get_content()
    except (LookupError, ValueError, KeyError):  # an unknown or wrong declared charset
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", "replace")
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    return content if isinstance(content, str) and content.strip() else None


def _form(text: str) -> dict[str, str] | None:
    """A web form's fields as JSON ({"Headline": ["…"], "Body": ["…"]}): the values by the
    usual names, lists of strings joined."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    fields = {str(k).strip().lower(): _joined(v) for k, v in value.items()}
    form = {
        "headline": _pick(fields, _FORM_HEADLINE),
        "body": _pick(fields, _FORM_BODY),
        "byline": _pick(fields, _FORM_BYLINE),
        "slugline": _pick(fields, ("slugline", "slug")),
    }
    return form if form["body"] else None


def _joined(value: Any) -> str:
    if isinstance(value, list):
        return "\n\n".join(str(v).strip() for v in value if str(v).strip())
    return str(value).strip() if value is not None else ""


def _pick(fields: dict[str, str], names: tuple[str, ...]) -> str:
    return next((fields[name] for name in names if fields.get(name)), "")


def _blocks_of(text: str) -> list[str]:
    return html_blocks(text) if re.search(r"<(?:p|br|div)\b", text, re.I) else split_blocks(text)


def _sender_name(message: EmailMessage) -> str | None:
    """The sender's display name; an address alone is not a by-line."""
    for name, _address in getaddresses([str(message.get("From") or "")]):
        if name.strip():
            return name.strip()
    return None


def _clean_id(value: Any) -> str | None:
    text = str(value or "").strip().strip("<>")
    return text or None


def _sent(value: Any) -> str | None:
    try:
        return rfc3339(parsedate_to_datetime(str(value))) if value else None
    except (TypeError, ValueError):
        return None
