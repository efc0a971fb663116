"""IPTC 7901, the teleprinter format of dpa and other agencies: a framed message whose header
carries routing, priority and keywords, and whose text opens with take keys, the headline and
the byline, each heading line ended by ``=``.

What is not for publication never leaves here as story text: the header (selector, message
number, word count), the keyword line, take keys (they say what the item is), the trailer
after ETX, the agency's sign-off initials ("dpa wsz jln npr"), and the notebook that dpa
appends ("# Notebook": notes to editors go to the edNote, links and everything after "not
for publication" are dropped).
"""

from __future__ import annotations

import re

from pipeline.formats.document import ParsedDocument
from pipeline.formats.framing import envelope
from pipeline.records import Control, Rejected

_TAKE_KEY = re.compile(r"[A-Z0-9][A-Z0-9 .'/&-]{0,30}|\([^()]{1,38}\)")
"""A take key stands alone in capitals (REFILE, 1ST LEAD, CORRECTION, EXTRA) or, as dpa
writes its own, in brackets ("(Achtung)", "(Korrektur)")."""
_TAKE_MARKERS = (
    ("KILL", "kill"),
    ("WITHDRAW", "kill"),
    ("ELIMINAT", "kill"),
    ("CORRECT", "correction"),
    ("KORREKTUR", "correction"),
    ("BERICHTIG", "correction"),
    ("REFILE", "refile"),
    ("REPEAT", "repeat"),
    ("WIEDERHOL", "repeat"),
    ("ACHTUNG", "advisory"),  # dpa's notice to the desks, no story
    ("LEAD", "update"),
    ("UPDATE", "update"),
    ("WRITETHRU", "update"),
)
_BYLINE = re.compile(r"(?:By|BY|Von|VON|Par|PAR|Por|POR)\s+\S.*")
_SIGN_OFF = re.compile(r"[a-z][a-z-]{1,9}(?:[ /][a-z]{2,5}){1,8}")
"""The agency and desk initials closing the text: "dpa wsz jln npr", "afp hh/ph"."""
_NOT_FOR_PUBLICATION = re.compile(r".{0,40}\bnot\s+(?:intended\s+)?for\s+publication\b", re.I)
_NOTE_HEADING = re.compile(r"#+\s*(?:note|notes)\s+to\s+editors?\b", re.I)


def parse_iptc7901(content: str) -> ParsedDocument:
    header, text = envelope(content)
    blocks = [block.strip() for block in re.split(r"\n[ \t]*\n", text) if block.strip()]
    if not blocks:
        raise Rejected("clean", "an IPTC 7901 message without text", code="no-text")
    takes, headline, byline, rest = _heading(blocks[0].split("\n"))
    body, notes = _body_and_notes([*rest, *blocks[1:]])
    marker = _marker(takes)
    ed_note = " / ".join([*takes, *notes]) or None
    metadata = {
        "byline": byline,
        "urgency": _priority(header),
        "slugline": _keywords(header),
        "control": Control(marker=marker, ed_note=ed_note) if (marker or ed_note) else None,
    }
    return ParsedDocument(
        blocks=body,
        headline=headline,
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def _heading(lines: list[str]) -> tuple[list[str], str | None, str | None, list[str]]:
    """Take keys, headline, byline and what of the first block is body already. The heading
    ends with its last line ending in ``=``; without one, the whole block is heading when
    it is short (a headline alone), else body."""
    lines = [line.strip() for line in lines if line.strip()]
    ends = [n for n, line in enumerate(lines) if line.endswith("=")]
    if ends:
        heading, rest = lines[: ends[-1] + 1], [" ".join(lines[ends[-1] + 1 :])]
    elif len(lines) <= 3:
        heading, rest = lines, []
    else:
        heading, rest = [], [" ".join(lines)]
    heading = [line.rstrip("= ").strip() for line in heading]
    takes = []
    while heading and _TAKE_KEY.fullmatch(heading[0]) and len(heading) > 1:
        takes.append(heading.pop(0))
    bylines = [line for line in heading if _BYLINE.fullmatch(line)]
    titles = [line for line in heading if line not in bylines]
    byline = bylines[0].split(None, 1)[1] if bylines else None
    return takes, " ".join(titles) or None, byline, [r for r in rest if r]


def _body_and_notes(blocks: list[str]) -> tuple[list[str], list[str]]:
    """The story's paragraphs (hard-wrapped lines joined), and the notes to editors of the
    notebook; the notebook's other sections, the not-for-publication part and the sign-off
    are dropped."""
    body: list[str] = []
    notes: list[str] = []
    in_notebook = in_notes = False
    for block in blocks:
        joined = " ".join(line.strip() for line in block.split("\n"))
        if _NOT_FOR_PUBLICATION.match(joined) or joined.replace(" ", "") == "****":
            break
        lines = block.split("\n")
        if block.startswith("#"):  # a section heading, its lines under it
            in_notebook, in_notes = True, bool(_NOTE_HEADING.match(lines[0]))
            lines = lines[1:]
        if in_notebook:
            if in_notes:
                notes.extend(line.lstrip("-* ").strip() for line in lines)
            continue
        body.append(joined)
    while body and _SIGN_OFF.fullmatch(body[-1]):
        body.pop()
    return body, [note for note in notes if note]


def _marker(takes: list[str]) -> str | None:
    for take in takes:
        for word, marker in _TAKE_MARKERS:
            if word in take.upper():
                return marker
    return None


def _priority(header: str) -> int | None:
    """The priority digit of the first header line ("eca062 4 i 211 ...": 4), 1 the most
    urgent, on the same scale as Newswire's urgency."""
    fields = header.split("\n", 1)[0].split()
    digit = next((f for f in fields[1:3] if len(f) == 1 and f.isdigit()), None)
    return int(digit) if digit and digit != "0" else None


def _keywords(header: str) -> str | None:
    """The keyword line under the header ("Germany-politics/"), as the slug."""
    lines = [line.strip() for line in header.split("\n") if line.strip()]
    return lines[1].strip("/ ") or None if len(lines) > 1 else None
