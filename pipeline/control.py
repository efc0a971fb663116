"""What an item is, and what a desk may do with it: kills, holds, embargoes, corrections,
rights and urgency.

Each format parser reads its own fields into the article's ``Control`` (NewsML-G2
``pubStatus``, ``embargoed``, ``edNote``, ``signal``, ``rightsInfo``; ninjs ``pubStatus``,
``embargoedUntil``, ``edNote``, rights; feeds' rights). Plain copy carries the same in agency
lines above the story ("KILL KILL KILL", "EMBARGOED UNTIL 0001 GMT MONDAY DECEMBER 7",
"Eds: …"), which ``read_agency_lines`` takes out of the text into the control. ``settle``
then decides, in this one place, what the item is.

Only whole agency lines at the top of plain copy count: "Chemicals kill the grass" or a
headline "BILL WITHDRAWN" inside a story never make it a kill.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple, cast, get_args

from pipeline.dateline import MONTHS
from pipeline.records import Control

Kind = Literal["story", "update", "correction", "refile", "repeat", "kill", "withhold", "advisory"]
NEVER_DUPLICATE: frozenset[Kind] = frozenset({"kill", "withhold", "correction"})
"""Kinds that are a new version of their story even where their text repeats it."""
RECALLS: frozenset[Kind] = frozenset({"kill", "withhold"})
"""Kinds that take a story out of use until a later usable version releases it."""

_PUB_STATUS = {
    "usable": "usable",
    "withheld": "withheld",
    "hold": "withheld",
    "canceled": "canceled",
    "cancelled": "canceled",
    "withdrawn": "canceled",
    "killed": "canceled",
    "kill": "canceled",
}


def read_pub_status(value: str | None) -> tuple[str, bool]:
    """The status (usable, withheld or canceled) and whether the value itself says
    "embargoed" (AP's ``pubstatus: "Embargoed"``). ``stat:`` and other schemes are dropped;
    an unknown value reads as usable."""
    word = (value or "").strip().rpartition(":")[2].lower()
    if word == "embargoed":
        return "usable", True
    return _PUB_STATUS.get(word, "usable"), False


def read_signals(values: list[str]) -> tuple[str, ...]:
    """Signal codes without their scheme: "sig:correction" -> "correction"."""
    return tuple(dict.fromkeys(v.strip().rpartition(":")[2].lower() for v in values if v.strip()))


_URGENCY_WORDS = {1: "flash", 2: "bulletin", 3: "urgent"}


def normalised_urgency(urgency: int | None) -> str | None:
    """One scale across providers, from the provider's 1-9 (1 most urgent; AP, ninjs and
    NewsML-G2 agree on the top three): flash, bulletin, urgent, routine (4-6), deferred."""
    if urgency is None:
        return None
    return _URGENCY_WORDS.get(urgency) or ("routine" if urgency <= 6 else "deferred")


# Agency lines: each must be a whole block at the top of plain copy.
_KILL = re.compile(
    r"(?:MANDATORY\s+|URGENT\s+)?(?:KILL|ELIMINATE|WITHDRAW(?:AL)?)(?:[\s/]+(?:KILL|ELIMINATE"
    r"|WITHDRAW(?:AL)?))*[\s.!]*|\(?STORY\s+(?:WITHDRAWN|KILLED)\)?[\s.!]*"
)
_KILL_REQUEST = re.compile(
    r"(?:Please|Editors (?:are asked to|please)|Kindly)\s+(?:kill|withdraw|eliminate|delete)"
    r"\s+(?:the\s+|this\s+|that\s+)?(?:item|story|article|report|dispatch|take)\b.*",
    re.IGNORECASE,
)
_HOLD = re.compile(r"HOLD(?:\s+HOLD)*[\s.!]*")
# AP's scale, as plain copy flags it on a line of its own.
_URGENCY_LINE = re.compile(r"(?P<word>FLASH|BULLETIN|URGENT)(?:\s+(?P=word))*[\s.!]*")
_URGENCY_OF_WORD = {"FLASH": 1, "BULLETIN": 2, "URGENT": 3}
_EMBARGO = re.compile(
    r"(?:STRICTLY\s+)?(?:EMBARGOED|HOLD\s+FOR\s+RELEASE)"
    r"(?:\s*(?:UNTIL|TILL|TO|AT|:)\s*(?P<when>.+?))?[\s.!]*",
    re.IGNORECASE,
)
# Slug tags and advisory labels stand alone on their line: upper-case headlines ("REPEAT
# OFFENDERS JAILED", "BUDGET DEFICIT WIDENS", "LEAD FOUND IN WATER") are stories.
_CORRECTION = re.compile(r"\(?(?:CORRECTED|CORRECTION)\)?[\s.]*|\((?:Corrects|CORRECTS)\b[^)]*\)")
_REFILE = re.compile(r"\(?REFILE\)?[\s.]*")
_REPEAT = re.compile(r"\(?(?:REPEAT|RPT)\)?[\s.]*")
_UPDATE = re.compile(
    r"UPDATE\s+\d+|\d+(?:st|nd|rd|th)\s+Ld-Writethru\b.*|WRITETHRU|\((?:Adds|Updates)\b[^)]*\)"
)
_ED_NOTE = re.compile(
    r"(?:Eds?|EDS?|Editors?|EDITORS?)(?:['’]s?)?(?:\s+(?:note|NOTE))?\s*:\s*(?P<note>.+)"
    r"|(?:NOTE\s+TO\s+EDITORS|Note\s+to\s+editors)\s*:\s*(?P<advice>.+)"
)
_ADVISORY = re.compile(
    r"(?:(?:EDITORS?['’]?\s+)?ADVISORY|NOTE\s+TO\s+EDITORS)(?:\s*[:-]\s*.*)?"
    r"|(?:NEWS\s+)?(?:DAYBOOK|SCHEDULE|DIGEST|BUDGET)|COVERAGE\s+PLAN|PLANNING"
)
# A quoted headline may hold apostrophes ('U.S. SAYS IT'S READY'): a single quote closes
# it only where no letter follows.
_QUOTED = re.compile(
    r"(?:headlined|headline|titled|slugged|slug)\s*[:\s]\s*"
    r"(?:\"(?P<double>[^\"]+)\"|“(?P<curly>[^”]+)”|['‘](?P<single>.+?)['’](?!\w))"
)
_MAX_AGENCY_LINES = 6
_HEADLINE_MARKERS = re.compile(r"^(?:(?:REFILE|CORRECTED|RPT|REPEAT|UPDATE\s+\d+)\s*[-–—:]\s*)+")


NAMING_MARKERS = frozenset({"kill", "withhold", "correction"})
"""Items that name the story they are about."""


def quoted_headline(text: str) -> str | None:
    """The headline (or slug) a kill, hold or correction quotes, if it quotes one."""
    found = _QUOTED.search(text)
    if found is None:
        return None
    return (found["double"] or found["curly"] or found["single"]).strip(" .,")


def _marker_of(line: str) -> str | None:
    if _KILL.fullmatch(line) or _KILL_REQUEST.fullmatch(line):
        return "kill"
    if _HOLD.fullmatch(line):
        return "withhold"
    if _CORRECTION.fullmatch(line):
        return "correction"
    if _REFILE.fullmatch(line):
        return "refile"
    if _REPEAT.fullmatch(line):
        return "repeat"
    if _UPDATE.fullmatch(line):
        return "update"
    if _ADVISORY.fullmatch(line.rstrip(" .:")):
        return "advisory"
    return None


_STRENGTH: dict[str, int] = {
    "kill": 6,
    "withhold": 5,
    "advisory": 4,
    "correction": 3,
    "refile": 2,
    "repeat": 2,
    "update": 1,
}


class AgencyLines(NamedTuple):
    blocks: list[str]
    """The blocks below the agency lines."""
    control: Control
    urgency: int | None
    """The urgency a FLASH, BULLETIN or URGENT line gives (AP's 1, 2 and 3)."""


def read_agency_lines(blocks: list[str], control: Control, received: datetime) -> AgencyLines:
    """Take plain copy's agency lines off the top of its blocks into the control: markers,
    embargoes, urgency flags and notes to editors go to the edNote, never to the headline or
    body."""
    notes: list[str] = []
    marker = control.marker
    embargoed, until = control.embargoed, control.embargoed_until
    refers_to = control.refers_to
    urgency: int | None = None
    taken = 0
    for block in blocks[:_MAX_AGENCY_LINES]:
        line = block.strip()
        embargo = _EMBARGO.fullmatch(line)
        note_line = _ED_NOTE.fullmatch(line)
        flag = _URGENCY_LINE.fullmatch(line)
        found = _marker_of(line)
        when = parse_embargo_time(embargo["when"] or "", received) if embargo else None
        if flag is not None:
            urgency = min(urgency or 9, _URGENCY_OF_WORD[flag["word"]])
        elif embargo and (line.isupper() or when is not None):
            embargoed, until = True, when or until
        elif note_line is not None:
            if note_line["advice"] is not None:
                found = "advisory"
        elif found is None:
            break
        if found and _STRENGTH[found] > _STRENGTH.get(marker or "", 0):
            marker = found
        refers_to = quoted_headline(line) or refers_to
        notes.append(line)
        taken += 1
    if not taken:
        return AgencyLines(blocks, control, None)
    if marker in NAMING_MARKERS and refers_to is None:  # the request under the kill line
        refers_to = next(filter(None, map(quoted_headline, blocks[taken : taken + 3])), None)
    note = " / ".join(filter(None, (control.ed_note, *notes)))
    settled = replace(
        control,
        marker=marker,
        embargoed=embargoed,
        embargoed_until=until,
        ed_note=note,
        refers_to=refers_to,
    )
    return AgencyLines(blocks[taken:], settled, urgency)


_EMBARGO_IN_NOTE = re.compile(r"\bEMBARGOED\b|\bHOLD FOR RELEASE\b")


def embargo_from_note(control: Control, received: datetime) -> Control:
    """An edNote that says "STRICTLY EMBARGOED … until …" embargoes the item even where the
    format's own field is missing: fail closed, with the time where the note gives one."""
    note = control.ed_note or ""
    if control.embargoed or not _EMBARGO_IN_NOTE.search(note):
        return control
    return replace(control, embargoed=True, embargoed_until=parse_embargo_time(note, received))


def headline_marker(headline: str) -> str | None:
    """The strongest slug tag opening a headline: "REFILE-UPDATE 2-Storm …" is a refile."""
    found = _HEADLINE_MARKERS.match(headline)
    if found is None:
        return None
    tags = re.findall(r"REFILE|CORRECTED|RPT|REPEAT|UPDATE", found.group())
    kinds = {"CORRECTED": "correction", "UPDATE": "update", "REFILE": "refile"}
    return max((kinds.get(tag, "repeat") for tag in tags), key=_STRENGTH.__getitem__)


def item_kind(control: Control, headline: str) -> Kind:
    """What the item is, from everything its format and its agency lines say; the strongest
    wins (a kill that is also an update is a kill)."""
    if control.pub_status == "canceled":
        return "kill"
    if control.pub_status == "withheld":
        return "withhold"
    signals = set(control.signals)
    candidates = [control.marker, headline_marker(headline)]
    if (control.profile or "").upper() == "INFO" or (signals and _ap_advisory(signals)):
        candidates.append("advisory")
    if "correction" in signals:
        candidates.append("correction")
    if "update" in signals:
        candidates.append("update")
    found = [c for c in candidates if c]
    if not found:
        return "story"
    return cast(Kind, max(found, key=_STRENGTH.__getitem__))


_STATUS_OF_KIND = {"kill": "canceled", "withhold": "withheld"}
LifecycleKind = Literal[
    "original", "update", "correction", "refile", "repeat", "kill", "withhold", "release"
]


def version_kind(kind: str, status: str, reason: str | None) -> LifecycleKind:
    """What a published version is (``newswire.lifecycle.kind``), from what the item is and
    what dedup decided: a usable version of a recalled story releases it; the same text under
    a mended headline corrects it; an unmarked later version is an update; a first version
    is the original unless it says otherwise."""
    if reason == "released":
        return "release"
    if kind in get_args(LifecycleKind):  # the item says what it is
        return cast(LifecycleKind, kind)
    if reason == "corrected-headline":  # the same text under its headline mended
        return "correction"
    return "update" if status == "version" else "original"


def settle(control: Control, headline: str) -> tuple[Kind, Control]:
    """The item's kind, and its control with the status the kind implies: plain copy's
    "KILL KILL KILL" makes the item canceled as ``pubStatus`` would."""
    kind = item_kind(control, headline)
    status = _STATUS_OF_KIND.get(kind, control.pub_status)
    return kind, replace(control, pub_status=status) if status != control.pub_status else control


def _ap_advisory(signals: set[str]) -> bool:
    """AP marks what may be published with the ``newscontent`` signal: an item that carries
    AP's content signals without it is an advisory or a daybook."""
    return bool(signals & {"newscontent", "whitelisted", "explicitcontent"}) and (
        "newscontent" not in signals
    )


_ZONES = {
    "GMT": 0,
    "UTC": 0,
    "Z": 0,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "EET": 2,
    "EEST": 3,
    "ET": -5,
    "EST": -5,
    "EDT": -4,
    "CT": -6,
    "CST": -6,
    "CDT": -5,
    "PT": -8,
    "PST": -8,
    "PDT": -7,
    "JST": 9,
}
_CLOCK = re.compile(
    r"(?P<hour>\d{1,2})(?::?(?P<minute>\d{2}))?\s*(?P<half>[ap]\.?m\.?)?\s*(?P<zone>[A-Z]{1,4})\b",
    re.IGNORECASE,
)
_DAY = re.compile(
    r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>\d{4}))?"
    r"|(?P<day2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month2>[A-Za-z]{3,9})\.?(?:,?\s+(?P<year2>\d{4}))?"
)


def parse_embargo_time(text: str, received: datetime) -> str | None:
    """An embargo's time ("0001 GMT MONDAY DECEMBER 7", "6 p.m. EDT, Oct. 5, 2024") in UTC,
    or None where it cannot be read (the item stays embargoed, time unknown). A date without
    a year is the first such date from a day before the item came in."""
    clock = next(
        (m for m in _CLOCK.finditer(text) if m["zone"].upper() in _ZONES),
        None,
    )
    day = next(
        (m for m in _DAY.finditer(text) if (m["month"] or m["month2"]).lower() in MONTHS),
        None,
    )
    if clock is None or day is None:
        return None
    hour, minute = int(clock["hour"]), int(clock["minute"] or 0)
    if clock["half"]:
        hour = hour % 12 + (12 if clock["half"].lower().startswith("p") else 0)
    month = MONTHS[(day["month"] or day["month2"]).lower()]
    number = int(day["day"] or day["day2"])
    year_text = day["year"] or day["year2"]
    offset = timedelta(hours=_ZONES[clock["zone"].upper()])
    try:
        years = [int(year_text)] if year_text else [received.year, received.year + 1]
        for year in years:
            local = datetime(year, month, number, hour, minute, tzinfo=UTC)
            moment = local - offset
            if year_text or moment >= received - timedelta(days=1):
                return moment.isoformat().replace("+00:00", "Z")
    except ValueError:
        return None
    return None


_NOTICES = {
    "kill": "KILL. This story has been withdrawn by its provider. Do not publish it, and "
    "remove it wherever it has been used.",
    "withhold": "HOLD. This story is withheld by its provider. Do not publish it until a "
    "later version releases it.",
}


def recall_notice(kind: str) -> str | None:
    """The body a kill or withhold version carries in place of the story's text."""
    return _NOTICES.get(kind)
