"""The one place an entity's type is decided, from all the evidence a story gives.

A mention arrives typed by the model's label (``LABELS``), by the newsroom dictionary or by
a rule (company designators, a dateline). Rows of results are typed by their own evidence and
their column's (``of_row``, ``of_column``); a mention that runs two names together is split
(``split``: an organisation "of" a country, a place before a person). Once a story's
mentions are grouped by entity, ``of_group`` decides the entity's type, strongest evidence
first (see there).
"""

from __future__ import annotations

import re
from collections import Counter

from pipeline.enrich.mentions import Mention, MentionGroup, RowName, fold
from pipeline.gazetteer import CORPORATE_DESIGNATORS, Gazetteer
from pipeline.names import given_names

LABELS = {
    "PERSON": "person",
    "PER": "person",  # the French model's labels: PER, ORG, LOC, MISC
    "MISC": "other",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "nationality",
    "EVENT": "event",
    "PRODUCT": "other",
    "WORK_OF_ART": "other",
    "LAW": "other",
}


OF_PLACE = re.compile(r"^(?P<org>.+?) of (?:the )?(?P<place>[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*)*)$")


# The last word of a name that says what it names, whatever the model said: "Acme Holdings
# Plc", "Bishop Garrigan High School", "Leeds United" are organisations; "Sandy River",
# "Reading Road" places. Words that also end club names ("City", "County", "Town", "State")
# are left to the model. The place words are the generic terms of GeoNames' feature classes
# (water bodies, parks and areas, hypsography, roads, spots and buildings).
ORGANISATION_HEAD_WORDS = (
    "group bank university college school academy institute association federation party"
    " council committee commission agency ministry department club fc united rovers wanderers"
    " records airlines airways society foundation league laboratory laboratories publishing"
    " publishers press industries enterprises technologies studios productions entertainment"
    " media magazine newspaper network brigade division corps regiment battalion squadron army"
    " navy police authority bureau parliament assembly senate congress government orchestra"
    " choir ensemble trust alliance coalition"
)


PLACE_HEAD_WORDS = (
    "river lake mountains island islands street road avenue parish province district valley"
    " bay sea ocean peninsula desert forest canal coast gulf strait creek airport square"
    " boulevard tower bridge stadium palace cathedral brook pond park dock docks harbour harbor"
    " hill hills mountain falls beach glacier reservoir marsh reef lagoon plateau ridge canyon"
    " gorge cove inlet fjord estuary highway lane plaza"
)


ORGANISATION_HEADS = frozenset(ORGANISATION_HEAD_WORDS.split()) | {
    designator.casefold().replace(".", "") for designator in CORPORATE_DESIGNATORS
}


PLACE_HEADS = frozenset(PLACE_HEAD_WORDS.split())


COLUMN_VOTES = 2


INITIALS = re.compile(r"^(?:[A-Z]\.\s?)+[A-Z][a-z'’-]+")


def head_type(name: str) -> str | None:
    """The type a name's last word gives it, if any (a single word gives none)."""
    words = name.split()
    if len(words) < 2:
        return None
    head = fold(words[-1]).replace(".", "")
    if head in ORGANISATION_HEADS:
        return "organisation"
    return "place" if head in PLACE_HEADS else None


SHIP_PREFIXES = "MV|MS|MT|SS|RMS|HMS|USS|HMAS|HMCS|INS|FV"
VESSEL_WORDS = (
    "ship|cruise ship|cruise liner|liner|vessel|tanker|oil tanker|freighter|cargo ship|ferry"
    "|trawler|yacht|container ship|warship|frigate|destroyer|aircraft carrier|submarine"
)
VESSEL_BEFORE = re.compile(
    rf"(?:\b(?:{SHIP_PREFIXES})\s+|\b(?:the|a|an|its|their)\s+(?:{VESSEL_WORDS}),?\s+)$"
)
VESSEL_AFTER = re.compile(rf"\s+(?:{VESSEL_WORDS})\b")
# "the island of Giglio", "the town of Koszalin": the story says it is a place.
PLACE_OF = re.compile(
    r"\b(?:island|isle|town|city|village|region|province|state|county|district|port|capital"
    r"|municipality|commune|canton|prefecture|oblast|republic) of\s+$"
)


READ_AS_PLACE = frozenset({"person", "organisation"})


class EntityTypes:
    """The type decisions, with the gazetteer they look places up in."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    @staticmethod
    def of_label(label: str) -> str | None:
        """The type of a model label (None: not a name Newswire keeps)."""
        return LABELS.get(label)

    def of_row(self, row: RowName) -> tuple[str | None, bool]:
        """The type a results row's name has by its own evidence, and whether it is sure."""
        words = row.cased.split()
        if self.gazetteer.country_code(row.cased):
            return "place", True
        if head := head_type(row.cased):
            return head, True
        if INITIALS.match(row.text):
            return "person", True
        if row.model_types & {"person", "organisation"}:
            return ("person" if "person" in row.model_types else "organisation"), False
        if row.model_types - {"place"}:  # "P-38 Lightning": what the model read, no team
            return sorted(row.model_types - {"place"})[0], True
        if self.holds_place(row.cased, countries_only=True):  # "West Germany"
            return "place", False
        if self.holds_place(row.cased):
            return "organisation", False
        if 2 <= len(words) <= 3 and words[0] in given_names():
            return "person", False
        return None, False

    @staticmethod
    def of_column(kind: str | None, sure: bool, column: Counter[str] | None) -> str:
        """A row name's type given its column: a column is one kind of name, so where two
        thirds of its runs (two or more) agree, the less sure and the unknown take their
        type; a run still unknown is a team."""
        if not sure and column:
            majority, votes = column.most_common(1)[0]
            if votes >= COLUMN_VOTES and 3 * votes >= 2 * column.total():
                kind = majority
        return kind or "organisation"

    def holds_place(self, name: str, countries_only: bool = False) -> bool:
        """Whether some words of the name name a place (a country, if ``countries_only``)."""
        words = name.split()
        known = self.gazetteer.country_code if countries_only else self.gazetteer.is_place
        return any(
            known(" ".join(words[i:j]))
            for i in range(len(words))
            for j in range(i + 1, len(words) + 1)
        )

    def split(self, mention: Mention) -> list[Mention]:
        """A mention that runs two names together, as two: an organisation "of" a country,
        a place before a person ("Mayor of Koszalin Piotr Jedlinski"), a place and the
        place that holds it ("Yorkshire, England")."""
        if mention.type == "person":
            return self.split_leading_place(mention)
        if mention.type == "place":
            return self.split_place_in_place(mention)
        return self.split_of_country(mention)

    def split_place_in_place(self, mention: Mention) -> list[Mention]:
        """ "Yorkshire, England": a place, a comma, and the known place that holds it, as the
        two places they are (the model reads them as one span now and then)."""
        inner, comma, outer = mention.text.rpartition(", ")
        if not comma or not inner or not self.gazetteer.is_place(outer):
            return [mention]
        outer_start = mention.end - len(outer)
        return [
            Mention(inner, mention.start, mention.start + len(inner), "place"),
            Mention(outer, outer_start, mention.end, "place"),
        ]

    def split_leading_place(self, mention: Mention) -> list[Mention]:
        """ "Koszalin Piotr Jedlinski": a place the gazetteer knows, then a given name."""
        words = mention.text.split(" ")
        for cut in range(1, len(words) - 1):
            if words[cut] in given_names() and self.gazetteer.is_place(" ".join(words[:cut])):
                place = " ".join(words[:cut])
                start = mention.start + len(place) + 1
                return [
                    Mention(place, mention.start, mention.start + len(place), "place"),
                    Mention(mention.text[len(place) + 1 :], start, mention.end, "person"),
                ]
        return [mention]

    def split_of_country(self, mention: Mention) -> list[Mention]:
        """ "National Transportation Safety Committee of Indonesia": an organisation and a
        place, as an editor would tag them."""
        match = OF_PLACE.match(mention.text)
        if mention.type != "organisation" or match is None:
            return [mention]
        if not self.gazetteer.country_code(match["place"]):
            return [mention]
        place_start = mention.start + match.start("place")
        return [
            Mention(match["org"], mention.start, mention.start + len(match["org"]), "organisation"),
            Mention(match["place"], place_start, mention.end, "place"),
        ]

    def of_group(self, group: MentionGroup, body: str = "") -> str:
        """An entity's type. Known entities keep theirs; countries are places; a vessel's
        cue in the story ("the cruise ship Costa Concordia", "MV Sewol") makes it a thing;
        the story calling it a place ("the island of Giglio") makes it one; a name's head
        word ("… Plc", "… River", "… Square") types it; a place the gazetteer knows by the
        whole name stays a place where the model read a person or an organisation
        (``_known_place``); otherwise the full name's own mentions decide ("Brudzinski"
        tagged ORG is still Joachim Brudziński, a person), then the majority."""
        if group.known:
            return group.known.type
        if group.types.keys() & {"place", "organisation", "nationality"} and (
            self.gazetteer.country_code(group.name)
        ):
            return "place"
        if body and is_vessel(group.name, body):
            return "other"
        if body and group.types["place"] < len(group.mentions) and named_a_place(group, body):
            return "place"
        named = group.types.keys() & {"person", "organisation", "place"}
        if named and (head := head_type(group.name)):
            return head
        if self._known_place(group):
            return "place"
        full = Counter(m.type for m in group.mentions if m.text == group.name)
        return (full or group.types).most_common(1)[0][0]

    def _known_place(self, group: MentionGroup) -> bool:
        """A name the gazetteer knows as a region or a populated place, opening with no given
        name, which the model read as a person ("Tuscany", "Saffron Walden") or, in one word,
        as an organisation ("Chelyabinsk's governor"), whether or not it also read it as a
        place ("Busan" once a place, once a person), and which no row of results names
        (there "Chelsea" is the club)."""
        others = group.types.keys() - {"place"}  # the readings that are not a place
        if not others or not others <= READ_AS_PLACE:
            return False
        if " " in group.name and others != {"person"}:
            return False  # "the White House said": a building by name, an organisation here
        if any(m.in_table for m in group.mentions):
            return False
        first = group.name.split(" ", 1)[0]
        return first not in given_names() and self.gazetteer.is_place(group.name)


def is_vessel(name: str, body: str) -> bool:
    """Whether the story names ``name`` as a ship: a ship's prefix ("MV", "HMS") or a
    vessel's word before it ("the cruise ship Costa Concordia") or after it ("the Costa
    Concordia cruise liner")."""
    at = body.find(name)
    while at >= 0:
        end = at + len(name)
        if VESSEL_BEFORE.search(body, max(0, at - 40), at) or VESSEL_AFTER.match(body, end):
            return True
        at = body.find(name, end)
    return False


def named_a_place(group: MentionGroup, body: str) -> bool:
    """Whether the story calls one of the group's mentions a place: "the island of Giglio"."""
    return any(PLACE_OF.search(body, max(0, m.start - 30), m.start) for m in group.in_body)
