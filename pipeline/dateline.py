"""Datelines: "July 19 (UPI) --", "WASHINGTON (AP) —", "LONDON, March 3 (Reuters) -".

A dateline opens the first paragraph of wire copy. Its relative date ("July 19", "Wednesday")
is resolved against the item's received time: the latest such day not after it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from pipeline.records import Dateline

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

_MONTH = r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"  # noqa: E501
_WEEKDAY = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
_DAY = rf"(?:{_MONTH}\s+\d{{1,2}}|{_WEEKDAY})"
# An upper-case place, optionally followed by a region or country in title case (not a date).
_PLACE = (
    r"(?P<place>[A-Z][A-Z.'\-]+(?:\s+[A-Z][A-Z.'\-]+){0,3}"
    rf"(?:,\s+(?!{_DAY})[A-Z][A-Za-z.'\-]+(?:\s+[A-Z][A-Za-z.'\-]+){{0,2}})?)"
)
# Before an agency in brackets a place may be in title case too ("Berlin (dpa) -").
_TITLE_PLACE = (
    r"(?P<place>[A-Z][A-Za-z.'\-]+(?:\s+[A-Z][A-Za-z.'\-]+){0,3}"
    rf"(?:,\s+(?!{_DAY})[A-Z][A-Za-z.'\-]+(?:\s+[A-Z][A-Za-z.'\-]+){{0,2}})?)"
)
_AGENCY = r"\((?P<agency>[A-Za-z][A-Za-z&.\-/]*(?:\s+[A-Za-z&.\-/]+){0,3})\)"
# AP's ANPA copy sets its dash as an underscore ("ATLANTA (AP) _ Luol Deng"); EFE puts a full
# stop before it ("Tegucigalpa, Jan 2 (EFE).- The").
_DASH = r"\.?\s*(?:--|—|–|-|_)\s*"

_WITH_AGENCY = re.compile(
    rf"^(?:{_TITLE_PLACE}(?:,\s*(?P<date>{_DAY}))?\s*|(?P<day>{_DAY})\s*)?{_AGENCY}{_DASH}"
)
_STANDALONE = re.compile(
    rf"^(?:{_PLACE}(?:,\s*(?P<date>{_DAY}))?\s*|(?P<day>{_DAY})\s*)?(?:{_AGENCY})?\s*$"
)
# Without an agency, a lone hyphen counts only after a date and before a space ("TOKYO,
# March 30 - Prime"), so that "LONDON-based" and "U.S. - Japan talks" stay the text they are.
_PLACE_ONLY = re.compile(
    rf"^{_PLACE}(?:,\s*(?P<date>{_DAY})\s*-(?=\s)|(?:,\s*(?P<day2>{_DAY}))?\s*(?:--|—|–))\s*"
)
_FULL_DATE = re.compile(
    rf"^(?:{_WEEKDAY},?\s+)?(?P<month>{_MONTH})\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})$"
)


def resolve_date(text: str, received: datetime) -> date | None:
    """The latest day named by ``text`` ("July 19", "Wednesday") not after ``received``."""
    today = received.date()
    words = text.replace(".", "").split()
    if len(words) == 1:
        if words[0].lower() not in _WEEKDAYS:
            return None
        back = (today.weekday() - _WEEKDAYS.index(words[0].lower())) % 7
        return today - timedelta(days=back)
    month = MONTHS.get(words[0].lower())
    if month is None:
        return None
    day = int(words[1])
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        # A day ahead is allowed: agencies date copy in their own time zone.
        if candidate <= today + timedelta(days=1):
            return candidate
    return None


def parse_dateline(paragraph: str, received: datetime) -> tuple[Dateline, str] | None:
    """Split a paragraph into its dateline and the rest, or None when it opens with none."""
    match = _WITH_AGENCY.match(paragraph) or _PLACE_ONLY.match(paragraph)
    if match is None:
        return None
    rest = paragraph[match.end() :]
    if not rest or not (rest[0].isupper() or rest[0] in "\"'“‘"):
        return None
    return _dateline(paragraph[: match.end()].strip(), match.groupdict(), received), rest


def _dateline(text: str, groups: dict[str, str | None], received: datetime) -> Dateline:
    named_day = groups.get("date") or groups.get("day") or groups.get("day2")
    place = groups.get("place")
    return Dateline(
        text=text,
        place=", ".join(p.title() if p.isupper() else p for p in place.split(", "))
        if place
        else None,
        date=resolve_date(named_day, received) if named_day else None,
        agency=groups.get("agency"),
    )


def parse_dateline_text(text: str, received: datetime) -> Dateline:
    """A dateline given on its own, as NewsML-G2 and NITF carry it: "MOSCOW, Monday (Reuters)"."""
    text = " ".join(text.split())
    match = _STANDALONE.match(text)
    if match is None:
        return Dateline(text=text)
    return _dateline(text, match.groupdict(), received)


def parse_date_only_line(block: str) -> date | None:
    """A block that is only a full date, as Wikinews opens with: "Friday, January 4, 2019"."""
    match = _FULL_DATE.match(block.strip())
    if match is None:
        return None
    month = MONTHS.get(match["month"].rstrip(".").lower())
    if month is None:
        return None
    try:
        return date(int(match["year"]), month, int(match["day"]))
    except ValueError:
        return None
