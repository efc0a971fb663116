"""ANPA-1312, the teleprinter format of AP and the North American wires: SYN SYN SOH, a
selector line, a header line (priority letter, category letter, format identifier, keyword,
date, word count), then the text after STX up to ETX and a trailer.

In the text, a line opened by ``^`` is a heading field, ended by ``<`` (or by ``=`` for the
by-line and its title), and a line opened by a tab is a paragraph. The first heading field
is the keyword line ("BC-LT--Argentina-Cancer Beauty,466": keyword, take key, word count);
the next is the headline; then photo notes ("AP Photo …") and notes to editors ("Eds: …")
go to the edNote, never into the story. Heading lines without an end mark are a summary
where the item has paragraphs, and the text itself where it has none (a list of headlines).
The trailer after ETX ("AP-WF-11-13-13 1509GMT") gives the time sent and is not published.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pipeline.formats.document import ParsedDocument
from pipeline.formats.framing import ETX, SYN, unframed
from pipeline.records import Control, Rejected, rfc3339

_PRIORITY = {"f": 1, "b": 2, "u": 3, "r": 5, "d": 7, "a": 7}
"""ANPA priority letters: flash, bulletin, urgent, routine, deferred, advance."""
_FIELD = re.compile(r"\^([^^<=]*)([<=]?)")
_KEYWORD = re.compile(r"(?:[A-Z]{2}-|\*)\S*.*")
_CODE = re.compile(r"\*?\d+|[A-Z]{2}-[\w-]+")
_NOTE = re.compile(r"\(?\s*(?:Eds?|EDS?|Editors?|EDITORS?)['’]?\s*(?:note)?\s*[:_]", re.I)
_PHOTO = re.compile(r"(?:AP|With AP) (?:Photos?|Video|Graphics?)\b", re.I)
_TAKES = (("writethru", "update"), ("ld-", "update"), ("correct", "correction"), ("kill", "kill"))
_SENT = re.compile(r"(\d\d)-(\d\d)-(\d\d)\s+(\d\d)(\d\d)GMT")
_TRAILER = re.compile(r"[A-Z]{2,4}-[A-Z]{2}-\d\d-\d\d-\d\d\s+\d{4}GMT<?")
"""The trailer's line, where a message lost the ETX before it: still no text."""


def parse_anpa(content: str) -> ParsedDocument:
    head = content.lstrip(SYN + " \t\r\n\ufeff")
    stx = head.find("\x02")
    if stx < 0:
        raise Rejected("clean", "an ANPA message without its start of text", code="malformed")
    header = head[1:stx]
    etx = head.find(ETX, stx + 1)
    text = head[stx + 1 :] if etx < 0 else head[stx + 1 : etx]
    trailer = "" if etx < 0 else unframed(head[etx + 1 :])
    fields, paragraphs, summary = _read_lines(unframed(text).split("\n"))
    if paragraphs and _TRAILER.fullmatch(paragraphs[-1]):
        trailer = trailer or paragraphs.pop()
    keyword, headline, byline, notes = _heading(fields)
    blocks = paragraphs or summary
    if not blocks:
        raise Rejected("clean", "an ANPA message without text", code="no-text")
    marker = _take_marker(keyword)
    metadata = {
        "byline": byline,
        "slugline": keyword.split(",")[0].strip() if keyword else None,
        "urgency": _PRIORITY.get(_header_line(header)[:1].lower()),
        "created": _sent(trailer),
        "control": Control(marker=marker, ed_note=" / ".join(notes) or None)
        if (marker or notes)
        else None,
    }
    return ParsedDocument(
        blocks=blocks,
        headline=headline,
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def _read_lines(lines: list[str]) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Heading fields (text, end mark), paragraphs, and heading lines without an end mark."""
    fields: list[tuple[str, str]] = []
    paragraphs: list[str] = []
    summary: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or set(stripped) <= {"_", "-"}:
            continue
        if line.startswith("\t") or not stripped.startswith("^"):
            paragraphs.append(stripped)
            continue
        found = [(value.strip(), end) for value, end in _FIELD.findall(stripped)]
        ended = [(value, end) for value, end in found if end and value]
        fields.extend(ended)
        summary.extend(value for value, end in found if not end and value)
    return fields, paragraphs, summary


def _heading(
    fields: list[tuple[str, str]],
) -> tuple[str | None, str | None, str | None, list[str]]:
    """Keyword line, headline, by-line and notes to editors of the heading fields."""
    keyword = headline = None
    bylines: list[str] = []
    notes: list[str] = []
    for value, end in fields:
        if end == "=":
            bylines.append(value)
        elif keyword is None and _KEYWORD.fullmatch(value) and _CODE.match(value):
            if not value.startswith("*"):
                keyword = value
        elif _NOTE.match(value) or _PHOTO.match(value):
            notes.append(value)
        elif headline is None:
            headline = value
    byline = ", ".join(re.sub(r"^By\s+", "", line) for line in bylines) or None
    return keyword, headline, byline, notes


def _take_marker(keyword: str | None) -> str | None:
    """What the take key of the keyword line says the item is ("1st Ld-Writethru": an
    update)."""
    parts = (keyword or "").split(",")
    take = " ".join(parts[1:-1]).lower() if len(parts) > 2 else ""
    return next((marker for word, marker in _TAKES if word in take), None)


def _header_line(header: str) -> str:
    """The header line after the selector line: priority letter first."""
    lines = [line for line in unframed(header).split("\n") if line.strip()]
    return lines[1].strip() if len(lines) > 1 else ""


def _sent(trailer: str) -> str | None:
    """The time sent, from the trailer ("AP-WF-11-13-13 1509GMT")."""
    found = _SENT.search(trailer)
    if found is None:
        return None
    month, day, year, hour, minute = (int(part) for part in found.groups())
    try:
        return rfc3339(datetime(2000 + year, month, day, hour, minute, tzinfo=UTC))
    except ValueError:
        return None
